//! The container endpoints: `create`, lifecycle (`start`, `stop`, `kill`,
//! `wait`, `DELETE`, and the watch over running monitors), `inspect` and
//! `list`, `logs`, `attach` (with `attach_keys`), `exec` (with `exec_run`,
//! the helper process), `pause`/`unpause`, `rename`, `top`, `stats`, and the
//! daemon's supervision: `healthcheck` and `restart_policy`; `volumes_from`,
//! `security` and `resources` for `create`.

mod attach;
mod attach_keys;
mod create;
mod devices;
mod exec;
mod exec_run;
mod healthcheck;
mod inspect;
mod lifecycle;
mod log_cursor;
mod logs;
mod mounts;
mod pause;
mod remove;
mod rename;
mod resources;
mod restart_policy;
mod security;
mod stats;
mod stdin;
mod top;
mod volumes_from;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use nix::sys::signal::Signal;

pub(crate) use attach::{attach, resize};
pub(crate) use create::create;
pub(crate) use exec::{
    create as exec_create, inspect as exec_inspect, resize as exec_resize, start as exec_start,
};
pub(crate) use inspect::{inspect, list};
pub(crate) use lifecycle::{kill, restart, start, stop, wait, watch_running};
pub(crate) use logs::logs;
pub(crate) use pause::set_paused;
pub(crate) use remove::remove;
pub(crate) use rename::rename;
pub(crate) use stats::stats;
pub(crate) use top::top;

use super::error::ApiError;
use super::Context;
use crate::container::{Entry, LookupError};

/// Images in use: those any container, running or not, was created from.
impl super::ImageUsers for crate::container::Containers {
    fn uses(&self, image: &crate::image::ImageId) -> bool {
        let id = format!("sha256:{}", image.hex());
        self.list().iter().any(|entry| entry.record.image_id == id)
    }
}

/// The container `reference` names, or Docker's 404 (for other modules).
pub(crate) fn lookup_entry(ctx: &Context, reference: &str) -> Result<Arc<Entry>, ApiError> {
    lookup(ctx, reference)
}

/// The container `reference` names, or Docker's 404.
fn lookup(ctx: &Context, reference: &str) -> Result<Arc<Entry>, ApiError> {
    ctx.containers.get(reference).map_err(|e| match e {
        LookupError::NotFound(_) => ApiError::not_found(e.to_string()),
        LookupError::Ambiguous(_) => ApiError::bad_request(e.to_string()),
    })
}

/// A signal by name (`TERM`, `SIGTERM`) or number (`15`).
fn parse_signal(text: &str) -> Result<Signal, ApiError> {
    let invalid = || ApiError::bad_request(format!("invalid signal: {text}"));
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| invalid());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| invalid())
}

/// The attributes of a container's events: its name, image and labels.
fn event_attributes(entry: &Entry) -> HashMap<String, String> {
    let record = &entry.record;
    let mut attributes = record.config.labels.clone().unwrap_or_default();
    attributes.insert("name".into(), entry.name());
    attributes.insert("image".into(), record.image.clone());
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("TERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("SIGKILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("sigusr1").unwrap(), Signal::SIGUSR1);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }
}
