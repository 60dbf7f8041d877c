//! `stack-dns`: the embedded DNS server answering container names per network.
//!
//! The engine daemon embeds one [`DnsServer`] and runs it on one [`Listener`]
//! per user-defined network (the network's gateway address, port 53). It
//! describes every container endpoint to a [`RecordSetBuilder`] and swaps the
//! built [`RecordSet`] in with [`DnsServer::update`] whenever endpoints come
//! and go.
//!
//! Layout, from pure to I/O:
//! - `records`: the immutable [`RecordSet`] (per network, name → addresses;
//!   reverse map; which container owns an asker address, and its links:
//!   names only that container resolves) and the checked name
//!   types [`DnsName`] and [`NetworkName`].
//! - `resolve`: one question → local answer, NXDOMAIN, REFUSED or "forward",
//!   scoped to the networks the asker is attached to. No I/O.
//! - `upstream`: forwarding to upstream resolvers with timeouts (UDP, TCP on
//!   truncation); [`parse_resolv_conf`] for the host's resolv.conf and
//!   [`container_resolv_conf`] for a container's.
//! - `server`: sockets, wire format (hickory-proto), the swappable snapshot.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use stack_dns::{DnsName, DnsServer, Endpoint, Listener, NetworkName, RecordSet, ServerOptions};
//!
//! let network = NetworkName::parse("shop_default")?;
//! let mut builder = RecordSet::builder();
//! builder.upstreams(stack_dns::parse_resolv_conf("nameserver 10.0.0.2\n").upstreams());
//! builder.endpoint(
//!     Endpoint::new(network.clone(), DnsName::parse("shop-web-1")?)
//!         .alias(DnsName::parse("web")?)
//!         .ipv4("172.30.0.2".parse()?),
//! );
//! let server = DnsServer::new(builder.build()?, ServerOptions::default());
//! let listener = Listener::bind(network, "172.30.0.1:53".parse()?).await?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let task = tokio::spawn({
//!     let server = server.clone();
//!     async move { server.serve(listener, async { stopped.await.ok(); }).await }
//! });
//! // ... later, when the network is removed:
//! stop.send(()).ok();
//! task.await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod records;
mod resolve;
mod server;
mod upstream;

pub use records::{
    BuildError, Conflict, DnsName, Endpoint, NameError, NameErrorReason, NetworkName, RecordSet,
    RecordSetBuilder,
};
pub use server::{BindError, DnsServer, Listener, ServerOptions, TTL};
pub use upstream::{container_resolv_conf, parse_resolv_conf, HostResolvConf};
