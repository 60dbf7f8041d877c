//! `stack logs` and the log view of a foreground `up`: every container's
//! output, line by line, behind an aligned `service-1  | ` prefix
//! (coloured on a terminal), as Compose prints them.

use super::super::engine::with_client;
use super::{check_services, load, ProjectArgs};
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
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
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
            ..LogsOptions::default()
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
