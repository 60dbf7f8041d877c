//! `/networks`: create, list, inspect, remove, connect, disconnect and
//! prune, with network events, and the networks' part of container
//! inspect and list.

mod pseudo;

use std::collections::HashMap;

use bollard_stubs::models::{
    EndpointIpamConfig, EndpointResource, EndpointSettings, EventMessageTypeEnum, Ipam, IpamConfig,
    NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest,
    NetworkInspect, NetworkPruneResponse, NetworkSummary, PortBinding,
};
use bytes::Bytes;
use hyper::{Response, StatusCode};

use super::error::ApiError;
use super::filters::Filters;
use super::query::Query;
use super::reply::{empty, json, parse_json, Body};
use super::Context;
use crate::container::record::Status;
use crate::network::ipam::SubnetRequest;
use crate::network::manager::{
    parse_port_key, requested_mac, ContainerFacts, CreateRequest, NetError, NetworkView,
};
use crate::network::predefined::Pseudo;
use crate::network::record::{
    port_map, ContainerNetwork, EndpointRequest, Link, Mode, NetworkRecord,
};

/// The only driver there is.
const DRIVER: &str = "bridge";

/// A network error as Docker's status codes have it.
pub(crate) fn net_error(error: NetError) -> ApiError {
    match error {
        NetError::NotFound(m) => ApiError::not_found(m),
        NetError::Conflict(m) => ApiError::conflict(m),
        NetError::Invalid(m) => ApiError::bad_request(m),
        NetError::Host(m) => ApiError::internal(m),
    }
}

fn ipam(record: &NetworkRecord) -> Ipam {
    Ipam {
        driver: Some("default".to_owned()),
        config: Some(vec![IpamConfig {
            subnet: Some(record.subnet.to_string()),
            gateway: Some(record.gateway.to_string()),
            ip_range: (record.ip_range != record.subnet).then(|| record.ip_range.to_string()),
            ..IpamConfig::default()
        }]),
        options: Some(HashMap::new()),
    }
}

fn inspect_model(view: &NetworkView) -> NetworkInspect {
    let record = &view.record;
    NetworkInspect {
        name: Some(record.name.clone()),
        id: Some(record.id.clone()),
        created: Some(record.created.clone()),
        scope: Some("local".to_owned()),
        driver: Some(DRIVER.to_owned()),
        ipam: Some(ipam(record)),
        internal: Some(record.internal),
        attachable: Some(record.attachable),
        ingress: Some(false),
        config_only: Some(false),
        options: Some(record.options.clone()),
        labels: Some(record.labels.clone()),
        containers: Some(
            view.containers
                .iter()
                .map(|(id, name, e)| {
                    (
                        id.clone(),
                        EndpointResource {
                            name: Some(name.clone()),
                            endpoint_id: Some(e.endpoint_id.clone()),
                            mac_address: Some(e.mac_address.clone()),
                            ipv4_address: Some(format!("{}/{}", e.address, e.prefix_len)),
                            ipv6_address: Some(String::new()),
                        },
                    )
                })
                .collect(),
        ),
        ..NetworkInspect::default()
    }
}

fn summary_model(model: &NetworkInspect) -> NetworkSummary {
    serde_json::to_value(model)
        .and_then(serde_json::from_value)
        .unwrap_or_default()
}

fn publish(ctx: &Context, action: &str, record: &NetworkRecord, container: Option<&str>) {
    let mut attributes = HashMap::from([
        ("name".to_owned(), record.name.clone()),
        ("type".to_owned(), DRIVER.to_owned()),
    ]);
    if let Some(container) = container {
        attributes.insert("container".to_owned(), container.to_owned());
    }
    ctx.events.publish(
        EventMessageTypeEnum::NETWORK,
        action,
        &record.id,
        attributes,
    );
}

/// `GET /networks` with `driver`, `id`, `label`, `name`, `scope`, `type`
/// and `dangling` filters.
pub(super) fn list(ctx: &Context, mut query: Query) -> Result<Response<Body>, ApiError> {
    let filters = Filters::parse(
        query.take("filters").as_deref(),
        &["dangling", "driver", "id", "label", "name", "scope", "type"],
    )?;
    query.finish()?;
    let dangling = filters.boolean("dangling")?;
    let mut models: Vec<(NetworkInspect, bool)> = (ctx.networks.list().iter())
        .map(|v| (inspect_model(v), v.record.default))
        .chain(Pseudo::ALL.map(|p| (pseudo::model(ctx, p), true)))
        .collect();
    models.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let summaries: Vec<NetworkSummary> = (models.iter())
        .filter(|(model, builtin)| matches_filters(&filters, model, *builtin, dangling))
        .map(|(model, _)| summary_model(model))
        .collect();
    Ok(json(StatusCode::OK, &summaries))
}

/// Whether a network passes the filters; `builtin` for the pre-defined
/// ones, which are never dangling (Docker's rule).
fn matches_filters(
    filters: &Filters,
    model: &NetworkInspect,
    builtin: bool,
    dangling: Option<bool>,
) -> bool {
    let text = |field: &Option<String>| field.clone().unwrap_or_default();
    let (id, name, driver) = (text(&model.id), text(&model.name), text(&model.driver));
    let any = |key: &str, test: &dyn Fn(&str) -> bool| {
        !filters.contains(key) || filters.values(key).iter().any(|v| test(v))
    };
    let unused = model.containers.as_ref().is_none_or(HashMap::is_empty);
    any("driver", &|v| v == driver)
        && any("id", &|v| id.starts_with(v))
        && any("name", &|v| name.contains(v))
        && any("scope", &|v| v == "local")
        && any("type", &|v| (v == "builtin") == builtin)
        && filters.labels_match("label", model.labels.as_ref().unwrap_or(&HashMap::new()))
        && dangling.is_none_or(|d| d == (!builtin && unused))
}

/// `GET /networks/{id}`.
pub(super) fn inspect(
    ctx: &Context,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    query.take("verbose");
    query.take("scope");
    query.finish()?;
    let model = match pseudo::find(ctx, reference)? {
        pseudo::Found::Pseudo(pseudo) => pseudo::model(ctx, pseudo),
        pseudo::Found::Network(view) => inspect_model(&view),
    };
    Ok(json(StatusCode::OK, &model))
}

/// `POST /networks/create`.
pub(super) async fn create(
    ctx: &Context,
    query: Query,
    body: Bytes,
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let request: NetworkCreateRequest = parse_json(
        &body,
        &[
            "Name",
            "Driver",
            "Scope",
            "Internal",
            "Attachable",
            "IPAM",
            "Options",
            "Labels",
            "CheckDuplicate",
            "EnableIPv4",
            "EnableIPv6",
            "Ingress",
            "ConfigOnly",
        ],
    )?;
    if request.ingress == Some(true) || request.config_only == Some(true) {
        return Err(ApiError::bad_request(
            "swarm networks (Ingress, ConfigOnly) are not supported: this engine runs local bridge networks",
        ));
    }
    if request.enable_ipv6 == Some(true) {
        return Err(ApiError::bad_request(
            "IPv6 networks are not supported yet: create the network without --ipv6",
        ));
    }
    if let Some(driver) = request
        .driver
        .as_deref()
        .filter(|d| !d.is_empty() && *d != DRIVER)
    {
        return Err(ApiError::bad_request(format!(
            "network driver {driver:?} is not supported; only {DRIVER:?} is"
        )));
    }
    let subnet = subnet_request(request.ipam.as_ref())?;
    let create = CreateRequest {
        name: request.name.clone(),
        internal: request.internal.unwrap_or(false),
        attachable: request.attachable.unwrap_or(false),
        labels: request.labels.unwrap_or_default(),
        options: request.options.unwrap_or_default(),
        subnet,
    };
    let id = ctx
        .networks
        .create_network(create)
        .await
        .map_err(net_error)?;
    if let Ok(view) = ctx.networks.inspect(&id) {
        publish(ctx, "create", &view.record, None);
    }
    Ok(json(
        StatusCode::CREATED,
        &NetworkCreateResponse {
            id,
            warning: String::new(),
        },
    ))
}

fn subnet_request(ipam: Option<&Ipam>) -> Result<SubnetRequest, ApiError> {
    let Some(ipam) = ipam else {
        return Ok(SubnetRequest::default());
    };
    if let Some(driver) = ipam
        .driver
        .as_deref()
        .filter(|d| !d.is_empty() && *d != "default")
    {
        return Err(ApiError::bad_request(format!(
            "IPAM driver {driver:?} is not supported; only \"default\" is"
        )));
    }
    let configs = ipam.config.clone().unwrap_or_default();
    let v4: Vec<&IpamConfig> = configs
        .iter()
        .filter(|c| !c.subnet.as_deref().unwrap_or("").contains(':'))
        .collect();
    if configs.len() != v4.len() {
        return Err(ApiError::bad_request(
            "IPv6 subnets are not supported yet: give an IPv4 subnet",
        ));
    }
    if v4.len() > 1 {
        return Err(ApiError::bad_request(
            "more than one IPv4 subnet per network is not supported: give one",
        ));
    }
    let Some(config) = v4.first() else {
        return Ok(SubnetRequest::default());
    };
    if config
        .auxiliary_addresses
        .as_ref()
        .is_some_and(|a| !a.is_empty())
    {
        return Err(ApiError::bad_request(
            "IPAM auxiliary addresses are not supported",
        ));
    }
    let given = |text: Option<&String>| text.filter(|t| !t.is_empty()).cloned();
    let net = |what: &str, text: Option<String>| {
        text.map(|t| {
            t.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid {what} {t:?}: write it as 10.1.2.0/24"))
            })
        })
        .transpose()
    };
    Ok(SubnetRequest {
        subnet: net("subnet", given(config.subnet.as_ref()))?,
        ip_range: net("ip range", given(config.ip_range.as_ref()))?,
        gateway: given(config.gateway.as_ref())
            .map(|g| {
                g.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid gateway {g:?}: give an IPv4 address"))
                })
            })
            .transpose()?,
    })
}

/// `DELETE /networks/{id}`.
pub(super) async fn remove(
    ctx: &Context,
    reference: &str,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let predefined = match pseudo::find(ctx, reference)? {
        pseudo::Found::Pseudo(pseudo) => Some(pseudo.name().to_owned()),
        pseudo::Found::Network(view) => view.record.default.then_some(view.record.name),
    };
    if let Some(name) = predefined {
        return Err(ApiError::forbidden(format!(
            "{name} is a pre-defined network and cannot be removed"
        )));
    }
    let record = ctx
        .networks
        .remove_network(reference)
        .await
        .map_err(net_error)?;
    publish(ctx, "destroy", &record, None);
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /networks/prune` with `label` and `until` filters: removes the
/// user-defined networks no running container uses.
pub(super) async fn prune(ctx: &Context, mut query: Query) -> Result<Response<Body>, ApiError> {
    let filters = Filters::parse(query.take("filters").as_deref(), &["label", "label!"])?;
    query.finish()?;
    let mut deleted = Vec::new();
    for view in ctx.networks.list() {
        let r = &view.record;
        let chosen = !r.default
            && view.containers.is_empty()
            && filters.labels_match("label", &r.labels)
            && filters.labels_absent("label!", &r.labels);
        if chosen {
            if let Ok(record) = ctx.networks.remove_network(&r.id).await {
                publish(ctx, "destroy", &record, None);
                deleted.push(record.name);
            }
        }
    }
    Ok(json(
        StatusCode::OK,
        &NetworkPruneResponse {
            networks_deleted: Some(deleted),
        },
    ))
}

/// `POST /networks/{id}/connect`.
pub(super) async fn connect(
    ctx: &Context,
    reference: &str,
    query: Query,
    body: Bytes,
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    pseudo::refuse_connect(ctx, reference)?;
    let request: NetworkConnectRequest = parse_json(&body, &["Container", "EndpointConfig"])?;
    let entry = super::containers::lookup_entry(ctx, &request.container)?;
    let config = request.endpoint_config.unwrap_or_default();
    let ipv4_address = config
        .ipam_config
        .and_then(|c| c.ipv4_address)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid IPv4 address {a:?}")))
        })
        .transpose()?;
    let links = (config.links.iter().flatten())
        .map(|text| Link::parse(text))
        .collect::<Result<Vec<Link>, String>>()
        .map_err(ApiError::bad_request)?;
    let endpoint = EndpointRequest {
        aliases: config.aliases.unwrap_or_default(),
        ipv4_address,
        links,
        mac_address: requested_mac(config.mac_address.as_deref(), reference).map_err(net_error)?,
    };
    let _operation = entry.operation.lock().await;
    let running = entry.snapshot().status() == Status::Running;
    let name = entry.name();
    let facts = facts(&entry.record, &name);
    ctx.networks
        .connect(&facts, running, reference, endpoint)
        .await
        .map_err(net_error)?;
    if let Ok(view) = ctx.networks.inspect(reference) {
        publish(ctx, "connect", &view.record, Some(&entry.record.id));
    }
    Ok(empty(StatusCode::OK))
}

/// `POST /networks/{id}/disconnect`.
pub(super) async fn disconnect(
    ctx: &Context,
    reference: &str,
    query: Query,
    body: Bytes,
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    pseudo::refuse_connect(ctx, reference)?;
    let request: NetworkDisconnectRequest = parse_json(&body, &["Container", "Force"])?;
    let entry = super::containers::lookup_entry(ctx, &request.container)?;
    let _operation = entry.operation.lock().await;
    let name = entry.name();
    let facts = facts(&entry.record, &name);
    ctx.networks
        .disconnect(&facts, reference)
        .await
        .map_err(net_error)?;
    if let Ok(view) = ctx.networks.inspect(reference) {
        publish(ctx, "disconnect", &view.record, Some(&entry.record.id));
    }
    Ok(empty(StatusCode::OK))
}

/// What the network manager needs of a container record and its current
/// name.
pub(crate) fn facts<'a>(
    record: &'a crate::container::record::ContainerRecord,
    name: &'a str,
) -> ContainerFacts<'a> {
    ContainerFacts {
        id: &record.id,
        name,
        hostname: record.config.hostname.as_deref().unwrap_or(""),
        host_config: &record.host_config,
        exposed: record
            .config
            .exposed_ports
            .iter()
            .flatten()
            .cloned()
            .collect(),
    }
}

/// A container's networks as inspect and list show them: its endpoints
/// while it runs, its configured networks otherwise.
pub(crate) fn endpoint_settings(
    ctx: &Context,
    id: &str,
    running: Option<&ContainerNetwork>,
) -> HashMap<String, EndpointSettings> {
    let views = ctx.networks.list();
    let name_of = |network_id: &str| {
        views
            .iter()
            .find(|v| v.record.id == network_id)
            .map(|v| v.record.name.clone())
    };
    let wanted = ctx.networks.endpoints(id);
    let mut out = HashMap::new();
    let predefined = match wanted.mode {
        Mode::Bridge => None,
        Mode::None => Some(Pseudo::None),
        Mode::Host => Some(Pseudo::Host),
        Mode::Container(_) => return out,
    };
    if let Some(predefined) = predefined {
        let settings = EndpointSettings {
            network_id: Some(predefined.id(&ctx.engine_id)),
            // Such containers have no endpoints of the manager's: the
            // endpoint exists while the container runs, as in Docker.
            endpoint_id: Some(if pseudo::is_running(ctx, id) {
                predefined.endpoint_id(&ctx.engine_id, id)
            } else {
                String::new()
            }),
            ..EndpointSettings::default()
        };
        out.insert(predefined.name().to_owned(), settings);
        return out;
    }
    for (network_id, request) in &wanted.networks {
        let Some(name) = name_of(network_id) else {
            continue;
        };
        let active = running.and_then(|n| n.endpoints.iter().find(|e| e.network_id == *network_id));
        let settings = EndpointSettings {
            ipam_config: request.ipv4_address.map(|a| EndpointIpamConfig {
                ipv4_address: Some(a.to_string()),
                ..EndpointIpamConfig::default()
            }),
            aliases: Some(request.aliases.clone()),
            links: (!request.links.is_empty())
                .then(|| request.links.iter().map(ToString::to_string).collect()),
            network_id: Some(network_id.clone()),
            endpoint_id: Some(active.map(|e| e.endpoint_id.clone()).unwrap_or_default()),
            gateway: Some(active.map(|e| e.gateway.to_string()).unwrap_or_default()),
            ip_address: Some(active.map(|e| e.address.to_string()).unwrap_or_default()),
            ip_prefix_len: Some(active.map(|e| i64::from(e.prefix_len)).unwrap_or_default()),
            mac_address: Some(active.map(|e| e.mac_address.clone()).unwrap_or_default()),
            dns_names: active.map(|e| e.aliases.clone()),
            ..EndpointSettings::default()
        };
        out.insert(name, settings);
    }
    out
}

/// `NetworkSettings.Ports`: every exposed or published port with its host
/// bindings (`null` for exposed-only ones, as Docker shows them).
pub(crate) fn ports(
    exposed: &[String],
    running: Option<&ContainerNetwork>,
) -> HashMap<String, Option<Vec<PortBinding>>> {
    let exposed = exposed.iter().filter_map(|k| parse_port_key(k).ok());
    let active = running.map(|n| n.ports.as_slice()).unwrap_or_default();
    port_map(exposed, active)
        .into_iter()
        .map(|(key, bindings)| {
            let bindings = (!bindings.is_empty()).then(|| {
                bindings
                    .into_iter()
                    .map(|(ip, port)| PortBinding {
                        host_ip: Some(ip),
                        host_port: Some(port),
                    })
                    .collect()
            });
            (key, bindings)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes(filter: &str, model: &NetworkInspect, builtin: bool) -> bool {
        let filters = Filters::parse(Some(filter), &["dangling", "driver", "type"]).unwrap();
        let dangling = filters.boolean("dangling").unwrap();
        matches_filters(&filters, model, builtin, dangling)
    }

    #[test]
    fn pre_defined_networks_are_builtin_and_never_dangling() {
        let unused = |name: &str, driver: &str| NetworkInspect {
            name: Some(name.to_owned()),
            driver: Some(driver.to_owned()),
            containers: Some(HashMap::new()),
            ..NetworkInspect::default()
        };
        let (none, custom) = (unused("none", "null"), unused("app", "bridge"));
        assert!(passes(r#"{"type":["builtin"]}"#, &none, true));
        assert!(!passes(r#"{"type":["custom"]}"#, &none, true));
        assert!(passes(r#"{"driver":["null"]}"#, &none, true));
        assert!(!passes(r#"{"driver":["bridge"]}"#, &none, true));
        assert!(!passes(r#"{"dangling":["true"]}"#, &none, true));
        assert!(passes(r#"{"dangling":["false"]}"#, &none, true));
        assert!(passes(r#"{"dangling":["true"]}"#, &custom, false));
        assert!(!passes(r#"{"dangling":["false"]}"#, &custom, false));
    }
}
