//! Creating and removing user-defined networks: the record, the bridge,
//! the DNS listener and the firewall rules.

use std::collections::HashMap;
use std::time::SystemTime;

use super::{find, host_err, NetError, Networks};
use crate::network::ipam::{self, AddressBook, SubnetRequest};
use crate::network::names::{BridgeName, IfName};
use crate::network::record::NetworkRecord;
use crate::state::time;

/// What a network create request asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct CreateRequest {
    pub(crate) name: String,
    pub(crate) internal: bool,
    pub(crate) attachable: bool,
    pub(crate) labels: HashMap<String, String>,
    pub(crate) options: HashMap<String, String>,
    pub(crate) subnet: SubnetRequest,
}

impl Networks {
    /// Creates a user-defined network: record, bridge, DNS listener, rules.
    pub(crate) async fn create_network(&self, request: CreateRequest) -> Result<String, NetError> {
        check_name(&request.name)?;
        let _creating = self.creating.lock().await;
        let routes = self.netlink.ipv4_routes().await.map_err(host_err)?;
        let id = crate::container::names::new_id().map_err(host_err)?;
        let record = {
            let mut state = self.lock();
            if state.networks.values().any(|n| n.name == request.name) {
                return Err(NetError::Conflict(format!(
                    "network with name {} already exists",
                    request.name
                )));
            }
            let taken: Vec<_> = state
                .networks
                .values()
                .map(|n| ipam::TakenSubnet {
                    subnet: n.subnet,
                    network: n.name.clone(),
                })
                .collect();
            let addressing =
                ipam::plan_network(&self.options.pool, &request.subnet, &routes, &taken)
                    .map_err(|e| NetError::Invalid(format!("network {}: {e}", request.name)))?;
            let record = NetworkRecord {
                bridge: BridgeName::for_network(&id).as_str().to_owned(),
                id: id.clone(),
                name: request.name.clone(),
                created: time::rfc3339_nanos(SystemTime::now()),
                internal: request.internal,
                attachable: request.attachable,
                labels: request.labels,
                options: request.options,
                subnet: addressing.subnet,
                gateway: addressing.gateway,
                ip_range: addressing.ip_range,
                explicit_subnet: request.subnet.subnet.is_some(),
                default: false,
            };
            state
                .books
                .insert(id.clone(), AddressBook::new(record.addressing()));
            state.networks.insert(id.clone(), record.clone());
            record
        };
        let made = async {
            self.bring_up_bridge(&record).await?;
            self.save(&record)?;
            self.sync_firewall().await
        }
        .await;
        if let Err(error) = made {
            self.forget_network(&record).await;
            return Err(error);
        }
        self.dns.listen(&record).await;
        Ok(id)
    }

    async fn forget_network(&self, record: &NetworkRecord) {
        {
            let mut state = self.lock();
            state.networks.remove(&record.id);
            state.books.remove(&record.id);
        }
        self.dns.stop(&record.id);
        if let Ok(bridge) = IfName::new(&record.bridge) {
            if let Err(error) = self.netlink.delete_link(&bridge).await {
                tracing::warn!(network = record.name, %error, "cannot delete the bridge");
            }
        }
        let _ = std::fs::remove_file(self.layout.network_record(&record.id));
        if let Err(error) = self.sync_firewall().await {
            tracing::warn!(network = record.name, %error, "cannot update the firewall");
        }
    }

    /// Removes a network without running containers; returns its record.
    pub(crate) async fn remove_network(&self, reference: &str) -> Result<NetworkRecord, NetError> {
        let record = {
            let state = self.lock();
            let record = find(&state, reference)?.clone();
            if record.default {
                return Err(NetError::Invalid(format!(
                    "{} is a pre-defined network and cannot be removed",
                    record.name
                )));
            }
            let users: Vec<&str> = state
                .active
                .values()
                .filter(|a| {
                    a.network
                        .endpoints
                        .iter()
                        .any(|e| e.network_id == record.id)
                })
                .map(|a| a.name.as_str())
                .collect();
            if !users.is_empty() {
                return Err(NetError::Conflict(format!(
                    "error while removing network: network {} id {} has active endpoints (stop or disconnect {} first)",
                    record.name,
                    record.id,
                    users.join(", ")
                )));
            }
            record
        };
        self.forget_network(&record).await;
        Ok(record)
    }
}

/// Docker's rule for network names.
fn check_name(name: &str) -> Result<(), NetError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(NetError::Invalid(format!(
            "invalid network name {name:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_names_follow_dockers_rule() {
        for ok in ["web", "shop_default", "a.b-c", "1net"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a b", "a/b", "_x"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
