//! Container networking: addresses, interfaces and firewall rules.
//!
//! - [`ipam`] (pure): subnets from a pool that avoids host routes and other
//!   networks; container addresses within a network.
//! - [`names`] (pure): checked interface names, derived from ids.

pub mod ipam;
pub mod names;
