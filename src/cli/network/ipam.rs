//! `--subnet`, `--gateway`, `--ip-range` and `--aux-address` into IPAM
//! configs, paired as docker pairs them: each gateway, range and auxiliary
//! address belongs to the one subnet that contains it. Mistakes are caught
//! here, before the engine is asked, with the value and what to do.

use anyhow::{bail, Result};
use bollard::models::IpamConfig;
use std::collections::HashMap;
use std::net::IpAddr;

/// An address prefix, `10.1.0.0/24`.
#[derive(Debug, Clone, Copy)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str, flag: &str) -> Result<Cidr> {
        let parsed = text.split_once('/').and_then(|(addr, prefix)| {
            let addr: IpAddr = addr.parse().ok()?;
            let prefix: u8 = prefix.parse().ok()?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            (prefix <= max).then_some(Cidr { addr, prefix })
        });
        match parsed {
            Some(cidr) => Ok(cidr),
            None => bail!(
                "invalid {flag} {text:?}: write an address and prefix length, e.g. 10.251.1.0/24"
            ),
        }
    }

    fn bits(addr: IpAddr) -> (u128, u8) {
        match addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    }

    /// Whether `addr` lies inside this prefix.
    fn contains(&self, addr: IpAddr) -> bool {
        if self.addr.is_ipv4() != addr.is_ipv4() {
            return false;
        }
        let (net, width) = Cidr::bits(self.addr);
        let (other, _) = Cidr::bits(addr);
        let host_bits = u32::from(width - self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        net & mask == other & mask
    }

    /// Whether `other` lies wholly inside this prefix.
    fn covers(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }

    fn overlaps(&self, other: &Cidr) -> bool {
        self.covers(other) || other.covers(self)
    }
}

/// One IPAM config per subnet, with the gateway, range and auxiliary
/// addresses that fall inside it.
pub(super) fn configs(
    subnets: &[String],
    gateways: &[String],
    ranges: &[String],
    aux: &HashMap<String, String>,
) -> Result<Vec<IpamConfig>> {
    if subnets.is_empty() && !(gateways.is_empty() && ranges.is_empty() && aux.is_empty()) {
        bail!("--gateway, --ip-range and --aux-address need the --subnet they belong to");
    }
    let mut cidrs: Vec<Cidr> = Vec::new();
    for subnet in subnets {
        let cidr = Cidr::parse(subnet, "--subnet")?;
        if let Some(i) = cidrs.iter().position(|c| c.overlaps(&cidr)) {
            bail!(
                "--subnet {subnet} overlaps --subnet {}: give each subnet its own addresses",
                subnets[i]
            );
        }
        cidrs.push(cidr);
    }
    let mut configs: Vec<IpamConfig> = subnets
        .iter()
        .map(|subnet| IpamConfig {
            subnet: Some(subnet.clone()),
            ..Default::default()
        })
        .collect();
    let owner = |addr: IpAddr, flag: &str, value: &str| -> Result<usize> {
        match cidrs.iter().position(|c| c.contains(addr)) {
            Some(i) => Ok(i),
            None => bail!(
                "{flag} {value} is outside every --subnet ({}): give an address inside one of them",
                subnets.join(", ")
            ),
        }
    };
    for range in ranges {
        let cidr = Cidr::parse(range, "--ip-range")?;
        let i = match cidrs.iter().position(|c| c.overlaps(&cidr)) {
            Some(i) => i,
            None => owner(cidr.addr, "--ip-range", range)?,
        };
        if !cidrs[i].covers(&cidr) {
            bail!(
                "--ip-range {range} is larger than its --subnet {}: use a longer prefix",
                subnets[i]
            );
        }
        if let Some(first) = &configs[i].ip_range {
            bail!(
                "--ip-range {first} and {range} are both in --subnet {}: give one range per subnet",
                subnets[i]
            );
        }
        configs[i].ip_range = Some(range.clone());
    }
    for gateway in gateways {
        let Ok(addr) = gateway.parse::<IpAddr>() else {
            bail!("invalid --gateway {gateway:?}: write an address, e.g. 10.251.1.1");
        };
        let i = owner(addr, "--gateway", gateway)?;
        if let Some(first) = &configs[i].gateway {
            bail!(
                "--gateway {first} and {gateway} are both in --subnet {}: give one gateway per subnet",
                subnets[i]
            );
        }
        configs[i].gateway = Some(gateway.clone());
    }
    let mut aux: Vec<(&String, &String)> = aux.iter().collect();
    aux.sort();
    for (name, address) in aux {
        let Ok(addr) = address.parse::<IpAddr>() else {
            bail!("invalid --aux-address {name}={address:?}: write NAME=ADDRESS, e.g. router=10.251.1.5");
        };
        let i = owner(addr, "--aux-address", address)?;
        configs[i]
            .auxiliary_addresses
            .get_or_insert_with(HashMap::new)
            .insert(name.clone(), address.clone());
    }
    Ok(configs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn gateways_and_ranges_go_to_their_subnet() {
        let configs = configs(
            &strings(&["10.251.1.0/24", "10.251.2.0/24"]),
            &strings(&["10.251.2.254", "10.251.1.1"]),
            &strings(&["10.251.2.128/25"]),
            &HashMap::from([("r".to_owned(), "10.251.1.5".to_owned())]),
        )
        .expect("configs");
        assert_eq!(configs[0].gateway.as_deref(), Some("10.251.1.1"));
        assert_eq!(configs[0].ip_range, None);
        assert_eq!(
            configs[0].auxiliary_addresses.as_ref().expect("aux")["r"],
            "10.251.1.5"
        );
        assert_eq!(configs[1].gateway.as_deref(), Some("10.251.2.254"));
        assert_eq!(configs[1].ip_range.as_deref(), Some("10.251.2.128/25"));
    }

    #[test]
    fn no_flags_leave_the_choice_to_the_engine() {
        assert!(configs(&[], &[], &[], &HashMap::new())
            .expect("configs")
            .is_empty());
    }

    #[test]
    fn mistakes_name_the_value() {
        let none = HashMap::new();
        let e = configs(&[], &strings(&["10.0.0.1"]), &[], &none).expect_err("no subnet");
        assert!(e.to_string().contains("--subnet"), "{e}");
        let e = configs(
            &strings(&["10.251.1.0/24"]),
            &strings(&["10.9.0.1"]),
            &[],
            &none,
        )
        .expect_err("outside");
        assert!(e.to_string().contains("10.9.0.1"), "{e}");
        let e = configs(
            &strings(&["10.251.0.0/16", "10.251.3.0/24"]),
            &[],
            &[],
            &none,
        )
        .expect_err("overlap");
        assert!(e.to_string().contains("overlaps"), "{e}");
        let e = configs(
            &strings(&["10.251.1.0/24"]),
            &[],
            &strings(&["10.251.0.0/16"]),
            &none,
        )
        .expect_err("range too large");
        assert!(e.to_string().contains("larger"), "{e}");
        let e = configs(&strings(&["10.251.1.0/33"]), &[], &[], &none).expect_err("prefix");
        assert!(e.to_string().contains("10.251.1.0/33"), "{e}");
        let e = configs(
            &strings(&["10.251.1.0/24"]),
            &strings(&["10.251.1.1", "10.251.1.2"]),
            &[],
            &none,
        )
        .expect_err("two gateways");
        assert!(e.to_string().contains("one gateway per subnet"), "{e}");
    }

    #[test]
    fn ipv6_prefixes() {
        let cidr = Cidr::parse("fd00:1::/64", "--subnet").expect("cidr");
        assert!(cidr.contains("fd00:1::1".parse().expect("addr")));
        assert!(!cidr.contains("fd00:2::1".parse().expect("addr")));
        assert!(!cidr.contains("10.0.0.1".parse().expect("addr")));
    }
}
