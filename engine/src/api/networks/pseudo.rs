//! The pseudo-networks `host` and `none` in the networks API, and network
//! references that may name them.

use std::collections::HashMap;

use bollard_stubs::models::{EndpointResource, Ipam, NetworkInspect};

use super::super::error::ApiError;
use super::super::Context;
use super::net_error;
use crate::container::record::Status;
use crate::network::manager::{NetError, NetworkView};
use crate::network::predefined::Pseudo;
use crate::network::record::Mode;

/// A pseudo-network as Docker shows it: no addresses, and the running
/// containers created in its mode. Its creation time is the default
/// network's, made when the state root was first opened.
pub(super) fn model(ctx: &Context, pseudo: Pseudo) -> NetworkInspect {
    let mode = match pseudo {
        Pseudo::Host => Mode::Host,
        Pseudo::None => Mode::None,
    };
    let containers = (ctx.containers.list().into_iter())
        .filter(|e| is_running(ctx, &e.record.id))
        .filter(|e| ctx.networks.endpoints(&e.record.id).mode == mode)
        .map(|e| {
            let endpoint = EndpointResource {
                name: Some(e.name()),
                endpoint_id: Some(pseudo.endpoint_id(&ctx.engine_id, &e.record.id)),
                mac_address: Some(String::new()),
                ipv4_address: Some(String::new()),
                ipv6_address: Some(String::new()),
            };
            (e.record.id.clone(), endpoint)
        })
        .collect();
    let created = (ctx.networks.list().into_iter())
        .find(|v| v.record.default)
        .map(|v| v.record.created);
    NetworkInspect {
        name: Some(pseudo.name().to_owned()),
        id: Some(pseudo.id(&ctx.engine_id)),
        created,
        scope: Some("local".to_owned()),
        driver: Some(pseudo.driver().to_owned()),
        ipam: Some(Ipam {
            driver: Some("default".to_owned()),
            config: Some(Vec::new()),
            options: None,
        }),
        internal: Some(false),
        attachable: Some(false),
        ingress: Some(false),
        config_only: Some(false),
        options: Some(HashMap::new()),
        labels: Some(HashMap::new()),
        containers: Some(containers),
        ..NetworkInspect::default()
    }
}

pub(super) fn is_running(ctx: &Context, id: &str) -> bool {
    (ctx.containers.get(id)).is_ok_and(|e| e.snapshot().status() == Status::Running)
}

/// What a network reference names.
pub(super) enum Found {
    Pseudo(Pseudo),
    Network(Box<NetworkView>),
}

/// Docker's lookup order: full id, exact name, then unique id prefix,
/// over the pseudo-networks and the others.
pub(super) fn find(ctx: &Context, reference: &str) -> Result<Found, ApiError> {
    if let Some(pseudo) = Pseudo::exact(reference, &ctx.engine_id) {
        return Ok(Found::Pseudo(pseudo));
    }
    match ctx.networks.inspect(reference) {
        Ok(view) => Ok(Found::Network(Box::new(view))),
        Err(NetError::NotFound(message)) => Pseudo::by_prefix(reference, &ctx.engine_id)
            .map(Found::Pseudo)
            .ok_or_else(|| ApiError::not_found(message)),
        Err(error) => Err(net_error(error)),
    }
}

/// Refuses connect and disconnect on a pseudo-network, as Docker does.
pub(super) fn refuse_connect(ctx: &Context, reference: &str) -> Result<(), ApiError> {
    match Pseudo::exact(reference, &ctx.engine_id) {
        Some(pseudo) => Err(ApiError::bad_request(format!(
            "network {0} cannot be connected to or disconnected from: a container joins it \
             only when created (--network {0})",
            pseudo.name()
        ))),
        None => Ok(()),
    }
}
