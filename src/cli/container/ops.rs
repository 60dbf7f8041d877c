//! `stack container exec`, the relay of attached streams (for `exec`,
//! `attach`, `run -it` and `start -a`), `top` and `stats`, as docker shows
//! them.

use super::super::engine::api_message;
use anyhow::{anyhow, Result};
use bollard::container::LogOutput;
use bollard::errors::Error as ApiError;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{ContainerStatsResponse, ExecConfig};
use bollard::query_parameters::{
    ResizeContainerTTYOptions, ResizeExecOptions, StatsOptions, TopOptions,
};
use bollard::Docker;
use futures_util::{Stream, StreamExt};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::process::ExitCode;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::signal::unix::{signal, SignalKind};

/// What docker prints when the detach keys end an attached session.
pub(super) const DETACHED: &str = "read escape sequence";

/// `exec`'s flags.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short, long)]
    detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Give extended privileges to the command
    #[arg(long)]
    privileged: bool,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    detach_keys: Option<String>,
    /// The container
    container: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// Runs a command in a running container; the exit code is the command's.
pub async fn exec(client: &Docker, args: ExecArgs) -> Result<ExitCode> {
    let raw = (args.tty && args.interactive)
        .then(|| RawTerminal::enter().ok())
        .flatten();
    let size = terminal_size();
    let config = ExecConfig {
        attach_stdin: Some(args.interactive && !args.detach),
        attach_stdout: Some(!args.detach),
        attach_stderr: Some(!args.detach),
        tty: Some(args.tty),
        env: (!args.env.is_empty()).then(|| args.env.clone()),
        cmd: Some(args.command.clone()),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        privileged: args.privileged.then_some(true),
        detach_keys: args.detach_keys.clone(),
        console_size: size
            .filter(|_| args.tty)
            .map(|(rows, cols)| vec![usize::from(rows), usize::from(cols)]),
    };
    let created = client
        .create_exec(&args.container, config)
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let options = StartExecOptions {
        detach: args.detach,
        tty: args.tty,
        output_capacity: None,
    };
    let started = client
        .start_exec(&created.id, Some(options))
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let StartExecResults::Attached { output, input } = started else {
        return Ok(ExitCode::SUCCESS);
    };
    let target = ResizeTarget::Exec(created.id.clone());
    relay(
        client,
        output,
        input,
        args.interactive,
        args.tty.then_some(target),
    )
    .await?;
    drop(raw);
    let inspected = client
        .inspect_exec(&created.id)
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    // The stream ends before the process only when the detach keys were typed.
    if inspected.running == Some(true) {
        eprintln!("{DETACHED}");
        return Ok(ExitCode::SUCCESS);
    }
    let code = inspected.exit_code.unwrap_or(0);
    Ok(ExitCode::from(
        u8::try_from(code.rem_euclid(256)).unwrap_or(1),
    ))
}

/// What a terminal resize goes to.
pub(super) enum ResizeTarget {
    Exec(String),
    Container(String),
}

impl ResizeTarget {
    async fn resize(&self, client: &Docker, rows: u16, cols: u16) {
        let (h, w) = (i32::from(rows), i32::from(cols));
        // A resize that fails leaves the old size; nothing to report.
        let _ = match self {
            ResizeTarget::Exec(id) => client.resize_exec(id, ResizeExecOptions { h, w }).await,
            ResizeTarget::Container(id) => {
                let options = ResizeContainerTTYOptions { h, w };
                client.resize_container_tty(id, options).await
            }
        };
    }
}

/// Relays an attached stream: this process's stdin to `input` when
/// `interactive`, the output to stdout and stderr until it ends, and this
/// terminal's size to `resize` (now and on each SIGWINCH).
pub(super) async fn relay(
    client: &Docker,
    mut output: Pin<Box<dyn Stream<Item = Result<LogOutput, ApiError>> + Send>>,
    mut input: Pin<Box<dyn AsyncWrite + Send>>,
    interactive: bool,
    resize: Option<ResizeTarget>,
) -> Result<()> {
    if interactive {
        // A thread of its own, not tokio's stdin: a read blocked on a
        // terminal must not keep the runtime (and the command) from ending.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buffer = vec![0u8; 4096];
            while let Ok(n) = stdin.read(&mut buffer) {
                if n == 0 || tx.blocking_send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            while let Some(chunk) = rx.recv().await {
                if input.write_all(&chunk).await.is_err() {
                    break;
                }
                let _ = input.flush().await;
            }
            // End of input: the command sees its stdin close.
            let _ = input.shutdown().await;
        });
    }
    if let Some(target) = resize {
        let client = client.clone();
        if let Some((rows, cols)) = terminal_size() {
            target.resize(&client, rows, cols).await;
        }
        tokio::spawn(async move {
            let Ok(mut changes) = signal(SignalKind::window_change()) else {
                return;
            };
            while changes.recv().await.is_some() {
                if let Some((rows, cols)) = terminal_size() {
                    target.resize(&client, rows, cols).await;
                }
            }
        });
    }
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    while let Some(item) = output.next().await {
        match item.map_err(|e| anyhow!("{}", api_message(&e)))? {
            LogOutput::StdErr { message } => {
                err.write_all(&message)?;
                err.flush()?;
            }
            other => {
                out.write_all(other.as_ref())?;
                out.flush()?;
            }
        }
    }
    Ok(())
}

/// The size of this process's terminal, if its output is one.
pub(super) fn terminal_size() -> Option<(u16, u16)> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout().as_fd()).ok()?;
    (size.ws_row > 0 && size.ws_col > 0).then_some((size.ws_row, size.ws_col))
}

/// The terminal in raw mode (keys go to the container as typed), restored on drop.
pub(super) struct RawTerminal {
    saved: rustix::termios::Termios,
}

impl RawTerminal {
    pub(super) fn enter() -> std::io::Result<RawTerminal> {
        let stdin = std::io::stdin();
        let saved = rustix::termios::tcgetattr(stdin.as_fd())?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(stdin.as_fd(), rustix::termios::OptionalActions::Now, &raw)?;
        Ok(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // Nothing better to do if the terminal is gone.
        let _ = rustix::termios::tcsetattr(
            std::io::stdin().as_fd(),
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

/// `top CONTAINER [ps OPTIONS]`.
pub async fn top(client: &Docker, container: &str, ps_args: &[String]) -> Result<()> {
    let options = (!ps_args.is_empty()).then(|| TopOptions {
        ps_args: ps_args.join(" "),
    });
    let top = client
        .top_processes(container, options)
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let titles = top.titles.unwrap_or_default();
    let rows = top.processes.unwrap_or_default();
    print!("{}", table(&titles, &rows));
    Ok(())
}

/// Columns as docker's tabwriter sets them: at least 20 wide, 3 apart.
fn table(titles: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..titles.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .chain(std::iter::once(&titles[i]))
                .map(|c| c.chars().count() + 3)
                .max()
                .unwrap_or(0)
                .max(20)
        })
        .collect();
    let mut text = String::new();
    for row in std::iter::once(titles).chain(rows.iter().map(Vec::as_slice)) {
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                let width = widths.get(i).copied().unwrap_or(20);
                text.push_str(&format!("{cell:<width$}"));
            }
        }
        text.push('\n');
    }
    text
}

/// `stats [--no-stream] CONTAINER...`.
pub async fn stats(client: &Docker, containers: &[String], no_stream: bool) -> Result<()> {
    let header = format!(
        "{:<15}{:<10}{:<10}{:<22}{:<10}{:<10}{:<14}{}",
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS"
    );
    let mut streams: Vec<_> = containers
        .iter()
        .map(|c| {
            client.stats(
                c,
                Some(StatsOptions {
                    stream: !no_stream,
                    one_shot: false,
                }),
            )
        })
        .collect();
    loop {
        let mut lines = Vec::new();
        for (container, stream) in containers.iter().zip(streams.iter_mut()) {
            match stream.next().await {
                Some(Ok(stats)) => lines.push(stats_line(&stats)),
                Some(Err(e)) => return Err(anyhow!("{container}: {}", api_message(&e))),
                None => return Ok(()),
            }
        }
        if !no_stream {
            // As docker does: redraw the table in place.
            print!("\x1b[2J\x1b[H");
        }
        println!("{header}");
        for line in lines {
            println!("{line}");
        }
        if no_stream {
            return Ok(());
        }
    }
}

/// One row of the stats table, computed as docker's client does.
fn stats_line(stats: &ContainerStatsResponse) -> String {
    let id: String = stats
        .id
        .clone()
        .unwrap_or_default()
        .chars()
        .take(12)
        .collect();
    let name = stats
        .name
        .clone()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned();
    let memory = stats.memory_stats.clone().unwrap_or_default();
    let cache = memory
        .stats
        .as_ref()
        .and_then(|s| {
            s.get("total_inactive_file")
                .or_else(|| s.get("inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    let usage = memory.usage.unwrap_or(0).saturating_sub(cache);
    let limit = memory.limit.unwrap_or(0);
    let mem_percent = if limit > 0 {
        usage as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    let (read, write) = stats
        .blkio_stats
        .as_ref()
        .and_then(|b| b.io_service_bytes_recursive.as_ref())
        .map_or((0, 0), |entries| {
            entries.iter().fold((0, 0), |(r, w), e| {
                match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
                    Some("read") => (r + e.value.unwrap_or(0), w),
                    Some("write") => (r, w + e.value.unwrap_or(0)),
                    _ => (r, w),
                }
            })
        });
    format!(
        "{:<15}{:<10}{:<10}{:<22}{:<10}{:<10}{:<14}{}",
        id,
        name,
        format!("{:.2}%", cpu_percent(stats)),
        format!("{} / {}", binary_size(usage), binary_size(limit)),
        format!("{mem_percent:.2}%"),
        "0B / 0B",
        format!("{} / {}", decimal_size(read), decimal_size(write)),
        stats
            .pids_stats
            .as_ref()
            .and_then(|p| p.current)
            .unwrap_or(0)
    )
}

/// CPU use between the previous sample and this one, as a percentage of one CPU.
fn cpu_percent(stats: &ContainerStatsResponse) -> f64 {
    let now = stats.cpu_stats.clone().unwrap_or_default();
    let before = stats.precpu_stats.clone().unwrap_or_default();
    let total = |c: &bollard::models::ContainerCpuStats| {
        c.cpu_usage
            .as_ref()
            .and_then(|u| u.total_usage)
            .unwrap_or(0)
    };
    let cpu_delta = total(&now).saturating_sub(total(&before)) as f64;
    let system_delta = now
        .system_cpu_usage
        .unwrap_or(0)
        .saturating_sub(before.system_cpu_usage.unwrap_or(0)) as f64;
    let cpus = f64::from(now.online_cpus.unwrap_or(1));
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * cpus * 100.0
    } else {
        0.0
    }
}

fn binary_size(bytes: u64) -> String {
    scaled(bytes as f64, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB"])
}

fn decimal_size(bytes: u64) -> String {
    scaled(bytes as f64, 1000.0, &["B", "kB", "MB", "GB", "TB"])
}

/// docker's go-units rendering: 4 significant digits, the largest unit below the value.
fn scaled(mut value: f64, base: f64, units: &[&str]) -> String {
    let mut unit = 0;
    while value >= base && unit + 1 < units.len() {
        value /= base;
        unit += 1;
    }
    let text = format!("{value:.4}");
    let digits: usize = if value >= 1000.0 {
        0
    } else if value >= 100.0 {
        1
    } else if value >= 10.0 {
        2
    } else {
        3
    };
    let text = if text.contains('.') {
        let rounded = format!("{value:.digits$}");
        let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
        trimmed.to_owned()
    } else {
        text
    };
    format!("{text}{}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_dockers() {
        assert_eq!(binary_size(320 * 1024), "320KiB");
        assert_eq!(binary_size(0), "0B");
        assert_eq!(binary_size(1536 * 1024 * 1024), "1.5GiB");
        assert_eq!(decimal_size(4096), "4.096kB");
    }

    #[test]
    fn top_columns_are_at_least_twenty_wide() {
        let titles = vec!["PID".to_owned(), "CMD".to_owned()];
        let rows = vec![vec!["1".to_owned(), "sleep 10".to_owned()]];
        assert_eq!(
            table(&titles, &rows),
            format!("{:<20}CMD\n{:<20}sleep 10\n", "PID", "1")
        );
    }

    #[test]
    fn cpu_percentage_from_two_samples() {
        let sample = |total: u64, system: u64| bollard::models::ContainerCpuStats {
            cpu_usage: Some(bollard::models::ContainerCpuUsage {
                total_usage: Some(total),
                ..Default::default()
            }),
            system_cpu_usage: Some(system),
            online_cpus: Some(2),
            ..Default::default()
        };
        let stats = ContainerStatsResponse {
            cpu_stats: Some(sample(150, 1000)),
            precpu_stats: Some(sample(100, 500)),
            ..Default::default()
        };
        assert!((cpu_percent(&stats) - 20.0).abs() < 1e-9);
    }
}
