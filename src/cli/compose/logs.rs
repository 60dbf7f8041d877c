//! `stack logs` and the log view of a foreground `up`: every container's
//! output, line by line, behind an aligned `service-1  | ` prefix
//! (coloured on a terminal), as Compose prints them.

use super::super::engine::with_client;
use super::{check_services, load_or_named, ProjectArgs};
use crate::orchestrator::api_message;
use crate::orchestrator::snapshot::project_containers;
use anyhow::Result;
use bollard::container::LogOutput;
use bollard::models::ContainerSummary;
use bollard::query_parameters::LogsOptions;
use bollard::Docker;
use futures_util::future::join_all;
use futures_util::StreamExt;
use stack_compose::env::Environment;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs of each container
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs since a time (2026-11-23T13:23:37Z, a Unix time) or for a
    /// duration back (42m, 1h30m)
    #[arg(long)]
    since: Option<String>,
    /// Show logs before a time or a duration back, as --since
    #[arg(long)]
    until: Option<String>,
    /// Produce monochrome output
    #[arg(long)]
    no_color: bool,
    /// Don't print the prefix in logs
    #[arg(long)]
    no_log_prefix: bool,
    /// Services to show (default: all)
    services: Vec<String>,
}

pub fn run(project: &ProjectArgs, args: LogsArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _, _) = load_or_named(project, env)?;
    check_services(&loaded, &args.services)?;
    let now = now();
    let since = args
        .since
        .as_deref()
        .map(|t| point_in_time(t, now, "--since"))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| point_in_time(t, now, "--until"))
        .transpose()?;
    let name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let containers: Vec<ContainerSummary> = project_containers(&client, &name)
            .await?
            .into_iter()
            .filter(|c| {
                args.services.is_empty()
                    || args.services.iter().any(|s| Some(s.as_str()) == service(c))
            })
            .collect();
        let printer = Printer::new(
            &containers,
            PrefixStyle {
                prefix: !args.no_log_prefix,
                colour: !args.no_color && std::io::stdout().is_terminal(),
            },
        );
        let options = LogsOptions {
            follow: args.follow,
            stdout: true,
            stderr: true,
            timestamps: args.timestamps,
            tail: args.tail.clone(),
            since: since.unwrap_or(0),
            until: until.unwrap_or(0),
        };
        join_all(
            containers
                .iter()
                .map(|c| printer.stream(&client, c, options.clone())),
        )
        .await;
        Ok(ExitCode::SUCCESS)
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Docker's `--since`/`--until` value as Unix seconds: a Unix time, an
/// RFC 3339 time in UTC, or a duration back from `now` (`1h30m`, `42s`).
fn point_in_time(text: &str, now: i64, flag: &str) -> Result<i32> {
    let invalid = || {
        anyhow::anyhow!(
            "invalid {flag} {text:?}: give a time (2026-11-23T13:23:37Z or a Unix time) \
             or a duration back (42m, 1h30m)"
        )
    };
    let seconds = if let Ok(unix) = text.parse::<f64>() {
        unix as i64
    } else if let Some(back) = duration_back(text) {
        now - back
    } else {
        rfc3339(text).ok_or_else(invalid)?
    };
    i32::try_from(seconds).map_err(|_| invalid())
}

/// `1h30m`, `42s`, `10m`: seconds.
fn duration_back(text: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total += digits.parse::<i64>().ok()? * unit;
        digits.clear();
    }
    (digits.is_empty() && !text.is_empty()).then_some(total)
}

/// `2026-11-23T13:23:37Z` (or with a fraction): Unix seconds.
fn rfc3339(text: &str) -> Option<i64> {
    let (date, clock) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.split(':');
    let (h, min) = (
        c.next()?.parse::<i64>().ok()?,
        c.next()?.parse::<i64>().ok()?,
    );
    let s = c.next()?.parse::<f64>().ok()? as i64;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86400 + h * 3600 + min * 60 + s)
}

fn service(c: &ContainerSummary) -> Option<&str> {
    c.labels
        .as_ref()
        .and_then(|l| l.get("com.docker.compose.service"))
        .map(String::as_str)
}

/// The name of a container in logs: Compose's `service-number`, else its
/// own name.
pub fn display_name(c: &ContainerSummary) -> String {
    let labels = c.labels.clone().unwrap_or_default();
    match (
        labels.get("com.docker.compose.service"),
        labels.get("com.docker.compose.container-number"),
    ) {
        (Some(service), Some(number)) => format!("{service}-{number}"),
        _ => c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default(),
    }
}

/// How the prefix is drawn.
#[derive(Debug, Clone, Copy)]
pub struct PrefixStyle {
    /// Print it at all (`--no-log-prefix` turns it off).
    pub prefix: bool,
    /// In ANSI colours.
    pub colour: bool,
}

/// The ANSI colours prefixes cycle through, as Compose's do.
const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// Writes lines of several containers, each behind its own prefix.
pub struct Printer {
    width: usize,
    style: PrefixStyle,
}

impl Printer {
    /// A printer whose prefixes are as wide as the widest of `containers`.
    pub fn new(containers: &[ContainerSummary], style: PrefixStyle) -> Self {
        let width = containers
            .iter()
            .map(|c| display_name(c).len())
            .max()
            .unwrap_or(0);
        Printer { width, style }
    }

    /// `web-1  | ` for container `name`, the `index`th one.
    pub fn prefix(&self, name: &str, index: usize) -> String {
        if !self.style.prefix {
            return String::new();
        }
        let text = format!("{name:<width$} | ", width = self.width);
        if self.style.colour {
            format!("\x1b[{}m{text}\x1b[0m", COLOURS[index % COLOURS.len()])
        } else {
            text
        }
    }

    /// Prints one line (or a message about the container) behind its prefix.
    pub fn line(&self, prefix: &str, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{prefix}{text}");
    }

    /// Streams the logs of `c` until they end, line by line.
    pub async fn stream(&self, client: &Docker, c: &ContainerSummary, options: LogsOptions) {
        let id = c.id.clone().unwrap_or_default();
        let index = colour_index(c);
        let prefix = self.prefix(&display_name(c), index);
        let mut stream = client.logs(&id, Some(options));
        // A line may arrive in pieces: hold a partial one until its end.
        let mut pending = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(output) => {
                    let bytes = match &output {
                        LogOutput::StdOut { message }
                        | LogOutput::StdErr { message }
                        | LogOutput::Console { message }
                        | LogOutput::StdIn { message } => message,
                    };
                    pending.push_str(&String::from_utf8_lossy(bytes));
                    while let Some(end) = pending.find('\n') {
                        let line: String = pending.drain(..=end).collect();
                        self.line(&prefix, line.trim_end_matches(['\n', '\r']));
                    }
                }
                Err(e) => {
                    self.line(&prefix, &format!("(logs ended: {})", api_message(&e)));
                    break;
                }
            }
        }
        if !pending.is_empty() {
            self.line(&prefix, &pending);
        }
    }
}

/// A stable colour per container: its service and number decide.
pub fn colour_index(c: &ContainerSummary) -> usize {
    display_name(c).bytes().map(usize::from).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(service: &str, number: &str) -> ContainerSummary {
        ContainerSummary {
            labels: Some(
                [
                    ("com.docker.compose.service".to_owned(), service.to_owned()),
                    (
                        "com.docker.compose.container-number".to_owned(),
                        number.to_owned(),
                    ),
                ]
                .into_iter()
                .collect(),
            ),
            ..ContainerSummary::default()
        }
    }

    #[test]
    fn points_in_time_as_docker_reads_them() {
        let now = 1_795_439_767;
        assert_eq!(
            point_in_time("1700000000", now, "--since").ok(),
            Some(1_700_000_000)
        );
        assert_eq!(
            point_in_time("1h30m", now, "--since").ok(),
            Some(1_795_434_367)
        );
        assert_eq!(
            point_in_time("42s", now, "--since").ok(),
            Some(1_795_439_725)
        );
        assert_eq!(
            point_in_time("2026-11-23T13:16:07Z", now, "--until").ok(),
            Some(1_795_439_767)
        );
        assert_eq!(
            point_in_time("1970-01-01T00:00:00.5Z", now, "--until").ok(),
            Some(0)
        );
        assert!(point_in_time("yesterday", now, "--since").is_err());
    }

    #[test]
    fn prefixes_are_aligned_to_the_widest_name() {
        let all = [container("web", "1"), container("database", "2")];
        let printer = Printer::new(
            &all,
            PrefixStyle {
                prefix: true,
                colour: false,
            },
        );
        assert_eq!(printer.prefix(&display_name(&all[0]), 0), "web-1      | ");
        assert_eq!(printer.prefix("database-2", 1), "database-2 | ");
        let coloured = Printer::new(
            &all,
            PrefixStyle {
                prefix: true,
                colour: true,
            },
        );
        assert_eq!(coloured.prefix("web-1", 0), "\x1b[36mweb-1      | \x1b[0m");
        let none = Printer::new(
            &all,
            PrefixStyle {
                prefix: false,
                colour: true,
            },
        );
        assert_eq!(none.prefix("web-1", 0), "");
    }
}
