//! `GET /events`: past events since a time, then live ones until a time,
//! as newline-delimited JSON, filtered the way Docker filters them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bollard_stubs::models::{EventMessage, EventMessageTypeEnum};
use bytes::Bytes;
use hyper::Response;
use tokio::sync::{broadcast, mpsc};

use super::error::ApiError;
use super::filters::Filters;
use super::query::Query;
use super::reply::{json_stream, Body};
use super::Context;
use crate::state::time::unix_nanos;

/// Filters `/events` accepts: Docker's full set. Kinds of objects this
/// engine never reports (swarm nodes, services, ...) simply match nothing.
const FILTERS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

/// Object kinds whose filter matches events of that type by a prefix of
/// the actor's id or `name` attribute (`image` is matched apart).
const ACTOR_FILTERS: &[(&str, EventMessageTypeEnum)] = &[
    ("config", EventMessageTypeEnum::CONFIG),
    ("container", EventMessageTypeEnum::CONTAINER),
    ("daemon", EventMessageTypeEnum::DAEMON),
    ("network", EventMessageTypeEnum::NETWORK),
    ("node", EventMessageTypeEnum::NODE),
    ("plugin", EventMessageTypeEnum::PLUGIN),
    ("secret", EventMessageTypeEnum::SECRET),
    ("service", EventMessageTypeEnum::SERVICE),
    ("volume", EventMessageTypeEnum::VOLUME),
];

/// A validated `/events` request.
#[derive(Debug)]
pub(super) struct Selection {
    since: Option<i64>,
    until: Option<i64>,
    filters: Filters,
}

impl Selection {
    pub(super) fn parse(mut query: Query) -> Result<Selection, ApiError> {
        let since = query
            .take("since")
            .map(|v| parse_timestamp("since", &v))
            .transpose()?;
        let until = query
            .take("until")
            .map(|v| parse_timestamp("until", &v))
            .transpose()?;
        let filters = Filters::parse(query.take("filters").as_deref(), FILTERS)?;
        query.finish()?;
        for kind in filters.values("type") {
            if kind.parse::<EventMessageTypeEnum>().is_err() || kind.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "invalid filter 'type={kind}'"
                )));
            }
        }
        for scope in filters.values("scope") {
            if scope != "local" && scope != "swarm" {
                return Err(ApiError::bad_request(format!(
                    "invalid filter 'scope={scope}'"
                )));
            }
        }
        Ok(Selection {
            since,
            until,
            filters,
        })
    }

    /// Whether `event` is wanted: its time in range and every filter matching.
    pub(super) fn wants(&self, event: &EventMessage) -> bool {
        let time = event.time_nano.unwrap_or(0);
        if self.since.is_some_and(|since| time < since)
            || self.until.is_some_and(|until| time > until)
        {
            return false;
        }
        let f = &self.filters;
        let typ = event.typ.unwrap_or(EventMessageTypeEnum::EMPTY);
        let id = event
            .actor
            .as_ref()
            .and_then(|a| a.id.as_deref())
            .unwrap_or("");
        let empty = Default::default();
        let attributes = event
            .actor
            .as_ref()
            .and_then(|a| a.attributes.as_ref())
            .unwrap_or(&empty);
        let name = attributes.get("name").map(String::as_str).unwrap_or("");
        let action = event.action.as_deref().unwrap_or("");
        // "exec_start: sh -c ..." matches the filter "exec_start".
        let action_ok = f.exact("event", action)
            || action
                .split_once(':')
                .is_some_and(|(a, _)| f.exact("event", a));
        let scope = event.scope.map(|s| s.to_string()).unwrap_or_default();
        let actors_ok = ACTOR_FILTERS.iter().all(|(key, kind)| {
            !f.contains(key)
                || (typ == *kind
                    && f.values(key)
                        .iter()
                        .any(|v| id.starts_with(v.as_str()) || name.starts_with(v.as_str())))
        });
        // An image filter also picks the events of containers made from the
        // image (their `image` attribute), with or without the tag.
        let image = if typ == EventMessageTypeEnum::IMAGE {
            name
        } else {
            attributes.get("image").map(String::as_str).unwrap_or("")
        };
        let image_ok = !f.contains("image")
            || [id, image, strip_tag(id), strip_tag(image)]
                .iter()
                .any(|candidate| !candidate.is_empty() && f.exact("image", candidate));
        action_ok
            && f.exact("type", typ.as_ref())
            && f.exact("scope", &scope)
            && actors_ok
            && image_ok
            && f.labels_match("label", attributes)
    }
}

/// `repo:tag` without `:tag` (a `:` before the last `/` is a registry port).
fn strip_tag(reference: &str) -> &str {
    match reference.rfind(':') {
        Some(colon) if !reference[colon..].contains('/') => &reference[..colon],
        _ => reference,
    }
}

/// Docker's event timestamps: Unix seconds with an optional fraction
/// (`1700000000` or `1700000000.123456789`), as the CLI sends them after
/// turning durations and dates into that form.
fn parse_timestamp(name: &str, value: &str) -> Result<i64, ApiError> {
    let invalid = || {
        ApiError::bad_request(format!(
            "invalid value for {name:?}: {value:?} (expected Unix seconds, like 1700000000.5)"
        ))
    };
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let secs: i64 = secs.parse().map_err(|_| invalid())?;
    let nanos: i64 = format!("{frac:0<9}").parse().map_err(|_| invalid())?;
    secs.checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(nanos))
        .ok_or_else(invalid)
}

/// Starts streaming; the response's headers go out at once, events follow.
pub(super) fn stream(ctx: &Arc<Context>, query: Query) -> Result<Response<Body>, ApiError> {
    let selection = Selection::parse(query)?;
    let (backlog, live) = ctx.events.subscribe();
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(forward(ctx.clone(), selection, backlog, live, tx));
    Ok(json_stream(rx))
}

async fn forward(
    ctx: Arc<Context>,
    selection: Selection,
    backlog: Vec<EventMessage>,
    mut live: broadcast::Receiver<EventMessage>,
    tx: mpsc::Sender<Bytes>,
) {
    // Past events only when asked for with `since`, as Docker does.
    if selection.since.is_some() {
        for event in backlog.iter().filter(|e| selection.wants(e)) {
            if send(&tx, event).await.is_err() {
                return;
            }
        }
    }
    let now = unix_nanos(SystemTime::now());
    let deadline = selection.until.map(|until| {
        let wait = Duration::from_nanos(u64::try_from(until.saturating_sub(now)).unwrap_or(0));
        tokio::time::Instant::now() + wait
    });
    let mut stopped = std::pin::pin!(super::stopped(ctx.stopping.clone()));
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) => {
                    if selection.wants(&event) && send(&tx, &event).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "an events listener fell behind; events were dropped for it");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = sleep_until(deadline) => return,
            () = tx.closed() => return,
            () = &mut stopped => return,
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn send(tx: &mpsc::Sender<Bytes>, event: &EventMessage) -> Result<(), ()> {
    let mut line = serde_json::to_vec(&with_legacy_fields(event)).map_err(|_| ())?;
    line.push(b'\n');
    tx.send(Bytes::from(line)).await.map_err(|_| ())
}

/// The event as Docker sends it up to API 1.51: container and image events
/// also carry the deprecated top-level `status` (the action), `id` (the
/// actor's id) and, for containers, `from` (the image), which older clients
/// such as docker-compose 1.x read instead of `Action` and `Actor`.
fn with_legacy_fields(event: &EventMessage) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    let typ = event.typ.unwrap_or(EventMessageTypeEnum::EMPTY);
    let (Some(object), Some(actor)) = (value.as_object_mut(), event.actor.as_ref()) else {
        return value;
    };
    if !matches!(
        typ,
        EventMessageTypeEnum::CONTAINER | EventMessageTypeEnum::IMAGE
    ) {
        return value;
    }
    if let Some(action) = &event.action {
        object.insert("status".into(), action.clone().into());
    }
    if let Some(id) = &actor.id {
        object.insert("id".into(), id.clone().into());
    }
    let image = actor.attributes.as_ref().and_then(|a| a.get("image"));
    if let (EventMessageTypeEnum::CONTAINER, Some(image)) = (typ, image) {
        object.insert("from".into(), image.clone().into());
    }
    value
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard_stubs::models::{EventActor, EventMessageScopeEnum};

    use super::*;

    fn event(
        typ: EventMessageTypeEnum,
        action: &str,
        id: &str,
        attrs: &[(&str, &str)],
        time: i64,
    ) -> EventMessage {
        EventMessage {
            typ: Some(typ),
            action: Some(action.into()),
            actor: Some(EventActor {
                id: Some(id.into()),
                attributes: Some(
                    attrs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<HashMap<_, _>>(),
                ),
            }),
            scope: Some(EventMessageScopeEnum::LOCAL),
            time: Some(time / 1_000_000_000),
            time_nano: Some(time),
        }
    }

    fn selection(query: &str) -> Result<Selection, ApiError> {
        Selection::parse(Query::parse(Some(query)).unwrap())
    }

    fn filters(json: &str) -> Selection {
        let encoded: String = json.bytes().map(|b| format!("%{b:02X}")).collect();
        selection(&format!("filters={encoded}")).unwrap()
    }

    #[test]
    fn container_and_image_events_carry_the_legacy_fields() {
        let started = event(
            EventMessageTypeEnum::CONTAINER,
            "start",
            "c1",
            &[("image", "busybox:latest"), ("name", "web")],
            5,
        );
        let json = with_legacy_fields(&started);
        assert_eq!(json["status"], "start");
        assert_eq!(json["id"], "c1");
        assert_eq!(json["from"], "busybox:latest");
        assert_eq!(json["Action"], "start");
        assert_eq!(json["Actor"]["ID"], "c1");
        let tagged = event(EventMessageTypeEnum::IMAGE, "tag", "sha256:ab", &[], 5);
        let json = with_legacy_fields(&tagged);
        assert_eq!(
            (&json["status"], &json["id"]),
            (&"tag".into(), &"sha256:ab".into())
        );
        assert!(json.get("from").is_none());
        let created = event(EventMessageTypeEnum::NETWORK, "create", "n1", &[], 5);
        let json = with_legacy_fields(&created);
        assert!(json.get("status").is_none() && json.get("id").is_none());
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("since", "12").unwrap(), 12_000_000_000);
        assert_eq!(parse_timestamp("since", "12.5").unwrap(), 12_500_000_000);
        assert_eq!(
            parse_timestamp("since", "12.000000001").unwrap(),
            12_000_000_001
        );
        for bad in [
            "",
            "x",
            "1.2.3",
            "1.0000000001",
            "1.-2",
            "2024-01-01T00:00:00Z",
        ] {
            assert!(parse_timestamp("since", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_range() {
        let s = selection("since=10&until=20").unwrap();
        let at = |secs: i64| {
            event(
                EventMessageTypeEnum::VOLUME,
                "create",
                "v",
                &[],
                secs * 1_000_000_000,
            )
        };
        assert!(!s.wants(&at(9)) && s.wants(&at(10)) && s.wants(&at(20)) && !s.wants(&at(21)));
    }

    #[test]
    fn filters_by_type_action_actor_and_label() {
        let create = event(
            EventMessageTypeEnum::VOLUME,
            "create",
            "data",
            &[("driver", "local")],
            1,
        );
        let start = event(
            EventMessageTypeEnum::CONTAINER,
            "exec_start: sh -c true",
            "abc123",
            &[("name", "web"), ("com.docker.compose.project", "p")],
            1,
        );
        let s = filters(r#"{"type":["volume"]}"#);
        assert!(s.wants(&create) && !s.wants(&start));
        let s = filters(r#"{"event":["exec_start"]}"#);
        assert!(!s.wants(&create) && s.wants(&start));
        let s = filters(r#"{"container":["web"]}"#);
        assert!(!s.wants(&create) && s.wants(&start));
        let s = filters(r#"{"container":["abc"]}"#);
        assert!(s.wants(&start));
        let s = filters(r#"{"volume":["data"],"type":["volume","container"]}"#);
        assert!(s.wants(&create) && !s.wants(&start));
        let s = filters(r#"{"label":["com.docker.compose.project=p"]}"#);
        assert!(!s.wants(&create) && s.wants(&start));
        let s = filters(r#"{"scope":["swarm"]}"#);
        assert!(!s.wants(&create));
        let s = filters(r#"{"container":["we"]}"#);
        assert!(s.wants(&start), "names match by prefix, as in Docker");
    }

    #[test]
    fn image_filters_match_images_and_their_containers() {
        let tagged = event(
            EventMessageTypeEnum::IMAGE,
            "tag",
            "sha256:ab",
            &[("name", "busybox:1.36")],
            1,
        );
        let run = event(
            EventMessageTypeEnum::CONTAINER,
            "start",
            "c1",
            &[("image", "busybox:1.36")],
            1,
        );
        let other = event(
            EventMessageTypeEnum::CONTAINER,
            "start",
            "c2",
            &[("image", "redis")],
            1,
        );
        let s = filters(r#"{"image":["busybox"]}"#);
        assert!(s.wants(&tagged) && s.wants(&run) && !s.wants(&other));
        let s = filters(r#"{"image":["sha256:ab"]}"#);
        assert!(s.wants(&tagged) && !s.wants(&run));
        assert_eq!(strip_tag("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(strip_tag("localhost:5000/app:v1"), "localhost:5000/app");
    }

    #[test]
    fn bad_requests_name_the_problem() {
        let err = selection("since=yesterday").unwrap_err();
        assert!(err.message.contains("\"since\""), "{}", err.message);
        assert!(selection("filters=%7B%22type%22%3A%5B%22bogus%22%5D%7D").is_err());
        assert!(selection("filters=%7B%22colour%22%3A%5B%22x%22%5D%7D").is_err());
        let err = selection("follow=1").unwrap_err();
        assert!(err.message.contains("\"follow\""), "{}", err.message);
    }
}
