//! Progress as a stream of events: the executor reports what happens to each
//! resource; renderers (a live terminal view, plain lines, JSON lines) live
//! in the CLI and only consume these.

use std::fmt;
use std::time::Duration;

/// The kind of resource an event is about; renderers print it before the
/// name, as Compose does (`Container app-web-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A container.
    Container,
    /// A network.
    Network,
    /// A volume.
    Volume,
    /// An image.
    Image,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Container => "Container",
            Kind::Network => "Network",
            Kind::Volume => "Volume",
            Kind::Image => "Image",
        })
    }
}

/// Where a resource's work stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Under way (`Creating`, `Starting`, `Waiting`).
    Working,
    /// Finished (`Created`, `Started`, `Healthy`).
    Done,
    /// Finished with something the user should know.
    Warning,
    /// Failed; the text says why.
    Error,
}

impl Status {
    /// Whether no further event is expected for the resource.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Working)
    }
}

/// One progress event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What kind of resource.
    pub kind: Kind,
    /// Its engine name (`app-web-1`, `app_default`).
    pub name: String,
    /// Where its work stands.
    pub status: Status,
    /// What is happening, in Compose's words (`Creating`, `Healthy`).
    pub text: String,
    /// Time since the work on the resource began.
    pub elapsed: Duration,
}

impl Event {
    /// An event about `name`, its work begun `elapsed` ago.
    pub fn new(
        kind: Kind,
        name: impl Into<String>,
        status: Status,
        text: impl Into<String>,
        elapsed: Duration,
    ) -> Self {
        Event {
            kind,
            name: name.into(),
            status,
            text: text.into(),
            elapsed,
        }
    }
}

/// Where events go. Implementations must be cheap and must not block: the
/// executor calls it from every task it runs.
pub trait Sink: Send + Sync {
    /// Takes one event.
    fn event(&self, event: Event);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_working_is_not_final() {
        assert!(!Status::Working.is_final());
        assert!(Status::Done.is_final() && Status::Warning.is_final() && Status::Error.is_final());
    }

    #[test]
    fn kinds_print_as_compose_names_them() {
        let e = Event::new(
            Kind::Container,
            "app-web-1",
            Status::Done,
            "Started",
            Duration::from_millis(120),
        );
        assert_eq!(
            format!("{} {} {}", e.kind, e.name, e.text),
            "Container app-web-1 Started"
        );
    }
}
