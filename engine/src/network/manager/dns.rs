//! The engine's DNS server on the networks: one listener per user-defined
//! network on its gateway, records rebuilt from the running containers.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use stack_dns::{DnsName, DnsServer, Endpoint, HostResolvConf, Listener, NetworkName, RecordSet};
use tokio::sync::oneshot;

use super::Active;
use crate::network::record::NetworkRecord;

/// The server and its listeners.
pub(super) struct Dns {
    server: DnsServer,
    /// The host's resolvers, the daemon's upstreams (loopback ones too:
    /// the daemon runs in the host's namespace).
    upstreams: Vec<SocketAddr>,
    /// Network id → the stop signal of its listener.
    listeners: Mutex<HashMap<String, oneshot::Sender<()>>>,
}

impl Dns {
    pub(super) fn new(host: HostResolvConf) -> Self {
        let upstreams: Vec<SocketAddr> = host
            .nameservers
            .iter()
            .chain(&host.skipped_loopback)
            .map(|a| SocketAddr::new(*a, 53))
            .collect();
        let mut builder = RecordSet::builder();
        builder.upstreams(upstreams.clone());
        let records = builder.build().unwrap_or_default();
        Dns {
            server: DnsServer::new(records, stack_dns::ServerOptions::default()),
            upstreams,
            listeners: Mutex::new(HashMap::new()),
        }
    }

    /// Starts answering on `network`'s gateway (port 53, UDP and TCP). A
    /// failure is logged, not fatal: containers still get addresses and
    /// routes, only names do not resolve.
    pub(super) async fn listen(&self, network: &NetworkRecord) {
        let Ok(name) = NetworkName::parse(&network.name) else {
            tracing::warn!(network = network.name, "network name is not usable in DNS");
            return;
        };
        let address = SocketAddr::new(IpAddr::V4(network.gateway), 53);
        let listener = match Listener::bind(name, address).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(network = network.name, %error, "cannot start the network's DNS server");
                return;
            }
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let server = self.server.clone();
        tokio::spawn(async move {
            server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.lock().insert(network.id.clone(), stop);
    }

    /// Stops answering on a network that is being removed.
    pub(super) fn stop(&self, network_id: &str) {
        if let Some(stop) = self.lock().remove(network_id) {
            let _ = stop.send(());
        }
    }

    /// Stops every listener (daemon shutdown).
    pub(super) fn stop_all(&self) {
        for (_, stop) in self.lock().drain() {
            let _ = stop.send(());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<()>>> {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the records with those of `active` containers on the
    /// user-defined `networks`: container name, aliases, hostname and short
    /// id, each on the networks the container is attached to.
    pub(super) fn update(
        &self,
        networks: &BTreeMap<String, NetworkRecord>,
        active: &HashMap<String, Active>,
    ) {
        let mut builder = RecordSet::builder();
        builder.upstreams(self.upstreams.clone());
        for (id, container) in active {
            let Ok(name) = DnsName::parse(&container.name) else {
                continue;
            };
            let own_upstreams: Vec<SocketAddr> = container
                .network
                .dns_servers
                .iter()
                .map(|a| SocketAddr::new(*a, 53))
                .collect();
            for endpoint in &container.network.endpoints {
                let Some(network) = networks.get(&endpoint.network_id).filter(|n| !n.default)
                else {
                    continue;
                };
                let Ok(network_name) = NetworkName::parse(&network.name) else {
                    continue;
                };
                let mut record = Endpoint::new(network_name, name.clone()).ipv4(endpoint.address);
                let extra = endpoint
                    .aliases
                    .iter()
                    .map(String::as_str)
                    .chain([container.hostname.as_str(), &id[..12.min(id.len())]]);
                let mut seen = vec![container.name.to_lowercase()];
                for alias in extra {
                    if seen.contains(&alias.to_lowercase()) {
                        continue;
                    }
                    seen.push(alias.to_lowercase());
                    if let Ok(alias) = DnsName::parse(alias) {
                        record = record.alias(alias);
                    }
                }
                for link in &endpoint.links {
                    if let (Ok(alias), Ok(target)) =
                        (DnsName::parse(&link.alias), DnsName::parse(&link.target))
                    {
                        record = record.link(alias, target);
                    }
                }
                if !own_upstreams.is_empty() {
                    record = record.upstreams(own_upstreams.clone());
                }
                builder.endpoint(record);
            }
        }
        match builder.build() {
            Ok(records) => self.server.update(records),
            Err(error) => {
                tracing::warn!(%error, "cannot build the DNS records; keeping the old ones")
            }
        }
    }
}
