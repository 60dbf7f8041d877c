//! Interface names, checked once at the boundary (pure).
//!
//! Linux limits interface names to 15 bytes (`IFNAMSIZ` - 1) and rejects
//! `/`, whitespace, `.` and `..`. An [`IfName`] can only be built through
//! [`IfName::new`], so the netlink and firewall code never sees a name the
//! kernel would refuse. The engine's own interfaces are derived
//! deterministically from ids, so that leftovers can be found by name after a
//! crash: bridges are `stk-<11 hex>`, host ends of veth pairs `stv-<11 hex>`
//! (the container end is made in the container's namespace as `eth<N>`).

use std::fmt;

use sha2::{Digest, Sha256};

/// The longest interface name the kernel accepts, in bytes.
pub const MAX_IFNAME_LEN: usize = 15;
/// Prefix of every bridge the engine creates.
pub const BRIDGE_PREFIX: &str = "stk-";
/// Prefix of the host end of every veth pair the engine creates.
pub const VETH_HOST_PREFIX: &str = "stv-";

/// Why a string is not a valid interface name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("an interface name cannot be empty")]
    Empty,
    /// The name is longer than [`MAX_IFNAME_LEN`] bytes.
    #[error("interface name {name:?} is {len} bytes long; the kernel allows at most 15")]
    TooLong {
        /// The rejected name.
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The name contains a character the kernel or our tools cannot carry.
    #[error("interface name {name:?} contains {ch:?}; use letters, digits, '-', '_' or '.'")]
    BadChar {
        /// The rejected name.
        name: String,
        /// The first offending character.
        ch: char,
    },
    /// `.` and `..` are reserved path names under /sys/class/net.
    #[error("interface name {0:?} is reserved")]
    Reserved(String),
}

/// A valid Linux interface name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfName(String);

impl IfName {
    /// Checks `name`: 1 to 15 bytes of ASCII letters, digits, `-`, `_`, `.`,
    /// and not `.` or `..`. The kernel accepts more, but these names also end
    /// up in nft rules, iptables arguments and sysctl paths, where a narrow
    /// alphabet keeps quoting trivial.
    pub fn new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_IFNAME_LEN {
            return Err(NameError::TooLong {
                name: name.to_owned(),
                len: name.len(),
            });
        }
        if let Some(ch) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(NameError::BadChar {
                name: name.to_owned(),
                ch,
            });
        }
        if name == "." || name == ".." {
            return Err(NameError::Reserved(name.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name of a container's `index`-th network interface: `eth0`,
    /// `eth1`, … (as Docker names them).
    pub fn container(index: u16) -> Self {
        Self(format!("eth{index}"))
    }

    /// The name as the kernel sees it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `prefix` followed by the first 11 hex digits of sha256 of `parts`
/// (separated by NUL so that `("ab", "c")` and `("a", "bc")` differ). 44
/// bits keep collisions negligible for the few hundred interfaces one host
/// carries, and the result is always exactly 15 bytes.
fn derived(prefix: &str, parts: &[&str]) -> IfName {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    IfName(format!("{prefix}{}", &hex[..MAX_IFNAME_LEN - prefix.len()]))
}

/// The bridge of one network: `stk-<hash of the network id>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BridgeName(IfName);

impl BridgeName {
    /// The bridge name of the network with id `network_id`; the same id
    /// always gives the same name.
    pub fn for_network(network_id: &str) -> Self {
        Self(derived(BRIDGE_PREFIX, &[network_id]))
    }

    /// An explicit bridge name (Docker's `com.docker.network.bridge.name`
    /// option, or the default network's bridge).
    pub fn explicit(name: IfName) -> Self {
        Self(name)
    }

    /// The interface name.
    pub fn ifname(&self) -> &IfName {
        &self.0
    }

    /// The name as the kernel sees it.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for BridgeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The host-side name of one endpoint's veth pair (the container side is
/// made in the container's namespace under its final name, `eth<N>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethNames {
    /// The end that stays on the host, attached to the bridge.
    pub host: IfName,
}

impl VethNames {
    /// The names for the endpoint of `container_id` on `network_id`.
    pub fn for_endpoint(container_id: &str, network_id: &str) -> Self {
        Self {
            host: derived(VETH_HOST_PREFIX, &[container_id, network_id]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kernel_style_names() {
        for name in ["eth0", "lo", "stk-0123456789a", "br_x.1", "a"] {
            assert_eq!(IfName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn rejects_what_the_kernel_or_our_rules_cannot_take() {
        assert_eq!(IfName::new(""), Err(NameError::Empty));
        assert!(matches!(
            IfName::new("0123456789abcdef"),
            Err(NameError::TooLong { len: 16, .. })
        ));
        assert!(matches!(
            IfName::new("a/b"),
            Err(NameError::BadChar { ch: '/', .. })
        ));
        assert!(matches!(
            IfName::new("a b"),
            Err(NameError::BadChar { ch: ' ', .. })
        ));
        assert!(matches!(
            IfName::new("a\"b"),
            Err(NameError::BadChar { ch: '"', .. })
        ));
        assert_eq!(IfName::new(".."), Err(NameError::Reserved("..".into())));
        assert_eq!(
            IfName::new("0123456789abcdef").unwrap_err().to_string(),
            "interface name \"0123456789abcdef\" is 16 bytes long; the kernel allows at most 15"
        );
    }

    #[test]
    fn bridge_names_are_deterministic_and_full_length() {
        let a = BridgeName::for_network("net-a");
        assert_eq!(a, BridgeName::for_network("net-a"));
        assert_ne!(a, BridgeName::for_network("net-b"));
        assert!(a.as_str().starts_with(BRIDGE_PREFIX));
        assert_eq!(a.as_str().len(), MAX_IFNAME_LEN);
        // The derived name is itself a valid name.
        assert_eq!(IfName::new(a.as_str()).unwrap(), *a.ifname());
        // sha256("net-a") starts with these digits; a change here renames
        // every bridge of every existing installation.
        assert_eq!(a.as_str(), "stk-1d509e1a7b4");
    }

    #[test]
    fn veth_names_differ_per_endpoint() {
        let one = VethNames::for_endpoint("c1", "n1");
        assert!(one.host.as_str().starts_with(VETH_HOST_PREFIX));
        assert_ne!(one, VethNames::for_endpoint("c1", "n2"));
        assert_ne!(
            VethNames::for_endpoint("c1n", "1"),
            VethNames::for_endpoint("c1", "n1")
        );
    }

    #[test]
    fn container_interfaces_are_numbered() {
        assert_eq!(IfName::container(0).as_str(), "eth0");
        assert_eq!(IfName::container(3).as_str(), "eth3");
    }
}
