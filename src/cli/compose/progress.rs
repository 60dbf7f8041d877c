//! Showing the executor's progress events: a live view on a terminal
//! (`--progress tty`, the default there), plain lines (`--progress plain`,
//! the default elsewhere), one JSON object per line (`--progress json`, for tools and
//! test harnesses), or nothing (`--progress quiet`). All go to standard
//! error, as Compose writes its progress, so standard output stays the
//! containers' own.

use super::live::Live;
use crate::orchestrator::progress::{Event, Sink, Status};
use std::io::{IsTerminal, Write};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProgressMode {
    /// The live view on a terminal, plain lines elsewhere.
    #[default]
    Auto,
    /// The live view.
    Tty,
    /// Plain lines.
    Plain,
    /// One JSON event per line.
    Json,
    /// Nothing.
    Quiet,
}

/// The sink for `mode`.
pub fn sink(mode: ProgressMode) -> Box<dyn Sink> {
    match mode {
        ProgressMode::Auto if std::io::stderr().is_terminal() => Box::new(Live::new()),
        ProgressMode::Tty => Box::new(Live::new()),
        ProgressMode::Auto | ProgressMode::Plain => Box::new(Plain),
        ProgressMode::Json => Box::new(Json),
        ProgressMode::Quiet => Box::new(Quiet),
    }
}

struct Plain;

impl Sink for Plain {
    fn event(&self, event: Event) {
        let _ = writeln!(std::io::stderr().lock(), "{}", plain_line(&event));
    }
}

/// ` Container app-web-1  Started`, as Compose's plain progress prints it;
/// a final event says how long the work took.
fn plain_line(event: &Event) -> String {
    let mut line = format!(" {} {}  {}", event.kind, event.name, event.text);
    if event.status.is_final() {
        line.push_str(&format!(" {:.1}s", event.elapsed.as_secs_f64()));
    }
    line
}

struct Json;

impl Sink for Json {
    fn event(&self, event: Event) {
        let _ = writeln!(std::io::stderr().lock(), "{}", json_line(&event));
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Working => "working",
        Status::Done => "done",
        Status::Warning => "warning",
        Status::Error => "error",
    }
}

/// `{"kind":"Container","name":"app-web-1","status":"done","text":"Started","elapsed_ms":12}`.
fn json_line(event: &Event) -> String {
    serde_json::json!({
        "kind": event.kind.to_string(),
        "name": event.name,
        "status": status_name(event.status),
        "text": event.text,
        "elapsed_ms": event.elapsed.as_millis() as u64,
    })
    .to_string()
}

struct Quiet;

impl Sink for Quiet {
    fn event(&self, _: Event) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrator::progress::Kind;
    use std::time::Duration;

    #[test]
    fn lines_as_compose_prints_them() {
        let working = Event::new(
            Kind::Container,
            "app-web-1",
            Status::Working,
            "Starting",
            Duration::ZERO,
        );
        assert_eq!(plain_line(&working), " Container app-web-1  Starting");
        let done = Event::new(
            Kind::Network,
            "app_default",
            Status::Done,
            "Created",
            Duration::from_millis(1250),
        );
        assert_eq!(plain_line(&done), " Network app_default  Created 1.2s");
        assert_eq!(
            json_line(&done),
            r#"{"kind":"Network","name":"app_default","status":"done","text":"Created","elapsed_ms":1250}"#
        );
    }
}
