//! Container networking: addresses, interfaces and firewall rules.
//!
//! - [`ipam`] (pure): subnets from a pool that avoids host routes and other
//!   networks; container addresses within a network.
//! - [`names`] (pure): checked interface names, derived from ids.
//! - [`firewall`]: the rule set as data (pure) and its application through
//!   `nft`, plus the iptables compatibility chain; or, where `nft` is
//!   missing, through `iptables-restore` into chains of our own.
//! - [`link`]: bridges, veth pairs, addresses and routes via rtnetlink, and
//!   the sysctls the rules rely on.
//! - `predefined` (pure): Docker's pseudo-networks `host` and `none`.

pub mod firewall;
pub mod ipam;
pub mod link;
pub(crate) mod manager;
pub mod names;
pub(crate) mod netns;
pub(crate) mod predefined;
pub(crate) mod record;
