//! The engine's event bus: Docker-shaped events (`/events`) fanned out to
//! every listener, with the most recent ones kept so that a listener that
//! asks for `since` gets what happened before it connected.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use bollard_stubs::models::{
    EventActor, EventMessage, EventMessageScopeEnum, EventMessageTypeEnum,
};
use tokio::sync::broadcast;

use crate::state::time::unix_nanos;

/// How many past events are kept for `since` (Docker keeps the same number).
const BACKLOG: usize = 256;

/// Publishes events and hands out subscriptions.
pub(crate) struct EventBus {
    backlog: Mutex<VecDeque<EventMessage>>,
    live: broadcast::Sender<EventMessage>,
}

impl EventBus {
    pub(crate) fn new() -> EventBus {
        EventBus {
            backlog: Mutex::new(VecDeque::with_capacity(BACKLOG)),
            // Room for bursts (a compose project starting); a listener that
            // falls further behind is told how many it missed.
            live: broadcast::channel(1024).0,
        }
    }

    /// Records and broadcasts one event about the object `id`.
    pub(crate) fn publish(
        &self,
        typ: EventMessageTypeEnum,
        action: &str,
        id: &str,
        attributes: HashMap<String, String>,
    ) {
        let nanos = unix_nanos(SystemTime::now());
        let event = EventMessage {
            typ: Some(typ),
            action: Some(action.to_string()),
            actor: Some(EventActor {
                id: Some(id.to_string()),
                attributes: Some(attributes),
            }),
            scope: Some(EventMessageScopeEnum::LOCAL),
            time: Some(nanos / 1_000_000_000),
            time_nano: Some(nanos),
        };
        tracing::debug!(r#type = %typ, action, id, "event");
        // Under the backlog lock, so a subscriber sees each event exactly once:
        // either in its snapshot or on its receiver.
        let mut backlog = self.backlog.lock().unwrap_or_else(|e| e.into_inner());
        if backlog.len() == BACKLOG {
            backlog.pop_front();
        }
        backlog.push_back(event.clone());
        // An error only means nobody is listening right now.
        let _ = self.live.send(event);
    }

    /// Docker's `prune` event for `typ` (its `reclaimed` attribute is the
    /// space freed), and that space as the API reports it.
    pub(crate) fn publish_prune(&self, typ: EventMessageTypeEnum, reclaimed: u64) -> i64 {
        let reclaimed = i64::try_from(reclaimed).unwrap_or(i64::MAX);
        self.publish(
            typ,
            "prune",
            "",
            HashMap::from([("reclaimed".to_string(), reclaimed.to_string())]),
        );
        reclaimed
    }

    /// The kept past events, oldest first, and a receiver for the next ones.
    pub(crate) fn subscribe(&self) -> (Vec<EventMessage>, broadcast::Receiver<EventMessage>) {
        let backlog = self.backlog.lock().unwrap_or_else(|e| e.into_inner());
        (backlog.iter().cloned().collect(), self.live.subscribe())
    }

    /// How many clients are following events (`NEventsListener` in `/info`).
    pub(crate) fn listeners(&self) -> usize {
        self.live.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_see_each_event_once_and_the_backlog_is_bounded() {
        let bus = EventBus::new();
        for i in 0..BACKLOG + 10 {
            bus.publish(
                EventMessageTypeEnum::VOLUME,
                "create",
                &format!("v{i}"),
                HashMap::new(),
            );
        }
        let (past, mut live) = bus.subscribe();
        assert_eq!(past.len(), BACKLOG);
        assert_eq!(past[0].actor.as_ref().unwrap().id.as_deref(), Some("v10"));
        assert_eq!(bus.listeners(), 1);
        bus.publish(
            EventMessageTypeEnum::VOLUME,
            "destroy",
            "v1",
            HashMap::new(),
        );
        let next = live.try_recv().unwrap();
        assert_eq!(next.action.as_deref(), Some("destroy"));
        assert_eq!(next.scope, Some(EventMessageScopeEnum::LOCAL));
        assert!(live.try_recv().is_err());
    }
}
