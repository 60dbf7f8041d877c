//! The engine's firewall: [`rules`] computes the whole `ip stack` nftables
//! table from the networks and published ports, [`iptables`] the
//! compatibility chain for hosts whose iptables `FORWARD` policy is DROP,
//! [`apply`] puts either in place (or removes it) with the host's tools,
//! and [`sync`] is what the daemon calls: it decides which of these a
//! change needs, behind the [`sync::FirewallBackend`] seam.

pub mod apply;
pub mod iptables;
pub mod rules;
pub mod sync;
