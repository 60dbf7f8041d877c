//! `POST /containers/{id}/rename?name=NEW`, as Docker's: the new name must
//! be valid, different and free (409 naming its holder otherwise); a running
//! container keeps running, and its DNS names on user-defined networks and
//! its events follow the new name at once.

use std::sync::Arc;

use bollard_stubs::models::EventMessageTypeEnum;
use hyper::{Response, StatusCode};

use super::super::error::ApiError;
use super::super::networks::net_error;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::{event_attributes, lookup};
use crate::container::{names, InsertError};

/// `POST /containers/{id}/rename`.
pub(crate) async fn rename(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let requested = query.take("name").unwrap_or_default();
    query.finish()?;
    if requested.is_empty() {
        return Err(ApiError::bad_request(
            "Neither old nor new names may be empty: give the new name with ?name=",
        ));
    }
    // Docker prefixes what the name's reservation says.
    let new_name = names::validate(&requested)
        .map_err(|e| ApiError::bad_request(format!("Error when allocating new name: {e}")))?;
    let entry = lookup(ctx, reference)?;
    // A start in progress reads the name for its DNS records: one at a time.
    let _operation = entry.operation.lock().await;
    if entry.name() == new_name {
        return Err(ApiError::bad_request(format!(
            "Renaming a container with the same name as its current name ({new_name})"
        )));
    }
    let old_name = ctx
        .containers
        .rename(&entry, &new_name)
        .map_err(|e| match e {
            InsertError::NameTaken { .. } => {
                ApiError::conflict(format!("Error when allocating new name: {e}"))
            }
            InsertError::Io(_) => ApiError::internal(super::super::chain(&e)),
        })?;
    if let Err(error) = ctx.networks.rename(&entry.record.id, &old_name, &new_name) {
        // As Docker, a rename that cannot be completed is undone.
        if let Err(undo) = ctx.containers.rename(&entry, &old_name) {
            tracing::warn!(id = entry.record.id, %undo, "cannot undo a failed rename");
        }
        return Err(net_error(error));
    }
    let mut attributes = event_attributes(&entry);
    attributes.insert("oldName".into(), format!("/{old_name}"));
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "rename",
        &entry.record.id,
        attributes,
    );
    Ok(reply::empty(StatusCode::NO_CONTENT))
}
