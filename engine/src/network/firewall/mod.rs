//! The engine's firewall: [`rules`] computes the whole `ip stack` nftables
//! table from the networks and published ports, [`iptables`] the
//! compatibility chain for hosts whose iptables `FORWARD` policy is DROP,
//! and [`apply`] puts either in place (or removes it) with the host's tools.

pub mod apply;
pub mod iptables;
pub mod rules;
