//! Connecting a container to a network and disconnecting it: recorded for
//! its next start, and wired or unwired now when it runs.

use super::attach::{check_scoped, new_endpoint, ContainerFacts};
use super::{find, host_err, NetError, Networks};
use crate::network::link::{self, Netns};
use crate::network::names::{IfName, VethNames};
use crate::network::record::{EndpointRequest, Mode, NetworkRecord};

impl Networks {
    /// Connects a container to a network: recorded for its next start, and
    /// wired now when it runs.
    pub(crate) async fn connect(
        &self,
        c: &ContainerFacts<'_>,
        running: bool,
        reference: &str,
        request: EndpointRequest,
    ) -> Result<(), NetError> {
        let mut wanted = self.endpoints(c.id);
        let record = {
            let state = self.lock();
            find(&state, reference)?.clone()
        };
        if wanted.mode != Mode::Bridge {
            return Err(NetError::Invalid(format!(
                "container {} shares another network namespace (or the host's) and cannot be connected to network {}",
                c.name, record.name
            )));
        }
        check_scoped(&record, &request)?;
        if wanted.networks.iter().any(|(id, _)| *id == record.id) {
            return Err(NetError::Conflict(format!(
                "endpoint with name {} already exists in network {}",
                c.name, record.name
            )));
        }
        if running {
            self.attach_running(c, &record, &request).await?;
        }
        wanted.networks.push((record.id.clone(), request));
        self.save_endpoints(c.id, &wanted)
    }

    async fn attach_running(
        &self,
        c: &ContainerFacts<'_>,
        record: &NetworkRecord,
        request: &EndpointRequest,
    ) -> Result<(), NetError> {
        let (endpoint, netns_file, has_route) = {
            let mut state = self.lock();
            let active = state.active.get(c.id).cloned().ok_or_else(|| {
                NetError::Conflict(format!("container {} has no network to extend", c.name))
            })?;
            let netns_file = active.network.netns_file.clone().ok_or_else(|| {
                NetError::Invalid(format!(
                    "container {} has no network namespace of its own",
                    c.name
                ))
            })?;
            let index = (0u16..)
                .find(|i| {
                    let name = IfName::container(*i);
                    !active
                        .network
                        .endpoints
                        .iter()
                        .any(|e| e.ifname == name.as_str())
                })
                .unwrap_or(0);
            let endpoint_id = crate::container::names::new_id().map_err(host_err)?;
            let book = state.books.get_mut(&record.id).ok_or_else(|| {
                NetError::Host(format!("network {} has no address book", record.name))
            })?;
            let address = book
                .allocate(c.id, request.ipv4_address)
                .map_err(|e| NetError::Conflict(format!("network {}: {e}", record.name)))?;
            let has_route = active.network.endpoints.iter().any(|e| {
                state
                    .networks
                    .get(&e.network_id)
                    .is_some_and(|n| !n.internal)
            });
            let endpoint = new_endpoint(c, record, index, address, request, endpoint_id);
            if let Some(active) = state.active.get_mut(c.id) {
                active.network.endpoints.push(endpoint.clone());
            }
            (endpoint, netns_file, has_route)
        };
        let wired = async {
            if record.default && self.ensure_default_bridge(record).await? {
                self.sync_firewall().await?;
            }
            let ns = Netns::open(&netns_file).map_err(host_err)?;
            self.attach_one(c.id, &endpoint, record, &ns, !has_route && !record.internal)
                .await
                .map(drop)
        }
        .await;
        if let Err(error) = wired {
            let mut state = self.lock();
            if let Some(book) = state.books.get_mut(&record.id) {
                book.release(endpoint.address);
            }
            if let Some(active) = state.active.get_mut(c.id) {
                active
                    .network
                    .endpoints
                    .retain(|e| e.network_id != record.id);
            }
            return Err(error);
        }
        self.after_change(c.id).await
    }

    /// Disconnects a container from a network (now, when it runs).
    pub(crate) async fn disconnect(
        &self,
        c: &ContainerFacts<'_>,
        reference: &str,
    ) -> Result<(), NetError> {
        let record = {
            let state = self.lock();
            find(&state, reference)?.clone()
        };
        let mut wanted = self.endpoints(c.id);
        let before = wanted.networks.len();
        wanted.networks.retain(|(id, _)| *id != record.id);
        let detached = {
            let mut state = self.lock();
            let endpoint = state.active.get_mut(c.id).and_then(|active| {
                let position = active
                    .network
                    .endpoints
                    .iter()
                    .position(|e| e.network_id == record.id)?;
                Some(active.network.endpoints.remove(position))
            });
            if let Some(endpoint) = &endpoint {
                if let Some(book) = state.books.get_mut(&record.id) {
                    book.release(endpoint.address);
                }
            }
            endpoint
        };
        if before == wanted.networks.len() && detached.is_none() {
            return Err(NetError::Conflict(format!(
                "container {} is not connected to network {}",
                c.name, record.name
            )));
        }
        self.save_endpoints(c.id, &wanted)?;
        if detached.is_some() {
            let veth = VethNames::for_endpoint(c.id, &record.id);
            link::detach_endpoint(&self.netlink, &veth)
                .await
                .map_err(host_err)?;
            self.after_change(c.id).await?;
        }
        Ok(())
    }

    /// Follows a container's rename: while it runs, its endpoints on
    /// user-defined networks answer to the new name instead of the old one,
    /// now and after a daemon restart (`network.json`, written first: on
    /// failure nothing changed). The file is written under the state lock
    /// so that an exit's release cannot come in between and leave it behind.
    pub(crate) fn rename(&self, id: &str, old: &str, new: &str) -> Result<(), NetError> {
        {
            let mut state = self.lock();
            let Some(active) = state.active.get_mut(id) else {
                return Ok(());
            };
            let mut network = active.network.clone();
            for endpoint in &mut network.endpoints {
                rename_alias(&mut endpoint.aliases, old, new);
            }
            self.write_network(id, &network)?;
            active.name = new.to_owned();
            active.network = network;
        }
        self.refresh_dns();
        Ok(())
    }

    /// After connect or disconnect of a running container: its file, the
    /// rules (its ports may lead elsewhere now) and the records.
    async fn after_change(&self, id: &str) -> Result<(), NetError> {
        let network = self.active(id);
        if let Some(network) = network {
            self.write_network(id, &network)?;
            if !network.ports.is_empty() {
                self.sync_firewall().await?;
            }
        }
        self.refresh_dns();
        Ok(())
    }
}

/// The aliases of an endpoint after its container was renamed from `old` to
/// `new`: the old name gives way to the new one, in its place; aliases the
/// request gave stay. Endpoints without the name (on the default network)
/// get none.
fn rename_alias(aliases: &mut Vec<String>, old: &str, new: &str) {
    let Some(position) = aliases.iter().position(|a| a == old) else {
        return;
    };
    aliases[position] = new.to_owned();
    let mut seen = Vec::new();
    aliases.retain(|a| {
        let first = !seen.contains(a);
        seen.push(a.clone());
        first
    });
}

#[cfg(test)]
mod tests {
    use super::rename_alias;

    #[test]
    fn a_rename_replaces_the_old_name_in_place() {
        let mut aliases = vec!["shop-web-1".to_owned(), "web".to_owned()];
        rename_alias(&mut aliases, "shop-web-1", "abc_shop-web-1");
        assert_eq!(aliases, ["abc_shop-web-1", "web"]);
        // A new name that was an alias already appears once.
        rename_alias(&mut aliases, "abc_shop-web-1", "web");
        assert_eq!(aliases, ["web"]);
        let mut default_network = Vec::new();
        rename_alias(&mut default_network, "gone", "new");
        assert!(default_network.is_empty());
    }
}
