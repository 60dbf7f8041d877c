//! The engine's firewall: [`rules`] computes the whole rule set from the
//! networks and published ports, as the `ip stack` nftables table or (where
//! `nft` is missing) as `iptables-restore` input for chains of our own;
//! [`iptables`] names those chains and holds the compatibility chain for
//! hosts whose iptables `FORWARD` policy is DROP; [`apply`] puts them in
//! place (or removes them) with the host's tools; and [`sync`] is what the
//! daemon calls: it picks the driver and decides what a change needs,
//! behind the [`sync::FirewallBackend`] seam.

pub mod apply;
pub mod iptables;
pub mod rules;
pub mod sync;
