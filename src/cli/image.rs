//! `stack image`: images on the engine, as `docker image` (`stack images`
//! is Compose's, the images of a project's containers). Archives are streamed to the engine in
//! chunks, never read whole into memory.

use super::engine::{self, api_message, filter_map};
use anyhow::{bail, Context, Result};
use bollard::query_parameters::{
    CreateImageOptions, ImportImageOptions, ListImagesOptions, PruneImagesOptions,
    RemoveImageOptions, TagImageOptions,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use stack_compose::env::Environment;
use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes read from an archive per request body chunk.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, clap::Subcommand)]
pub enum ImageCommand {
    /// Import the contents from a tarball (or a directory) to create a filesystem image
    Import {
        /// Apply a Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, USER, LABEL, VOLUME, STOPSIGNAL; repeatable)
        #[arg(short, long = "change")]
        changes: Vec<String>,
        /// The root filesystem: a tar file (plain, gzip or zstd), a directory, or `-` for standard input
        source: String,
        /// Name the image as REPOSITORY[:TAG]
        reference: Option<String>,
    },
    /// Load an image from a tar archive (`docker save` or OCI layout) or standard input
    Load {
        /// Read from a tar archive file (or an OCI layout directory) instead of standard input
        #[arg(short, long)]
        input: Option<PathBuf>,
        /// Suppress progress output (the engine sends none; the loaded names are still printed, as docker does)
        #[arg(short, long)]
        quiet: bool,
    },
    /// List images
    #[command(alias = "list")]
    Ls(ListArgs),
    /// Display detailed information on one or more images
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove one or more images
    #[command(alias = "remove", alias = "rmi")]
    Rm {
        /// Force removal of the image
        #[arg(short, long)]
        force: bool,
        /// Do not delete untagged parents (there are none; accepted for docker compatibility)
        #[arg(long)]
        no_prune: bool,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove unused images
    Prune {
        /// Remove all unused images, not just dangling ones
        #[arg(short, long)]
        all: bool,
        /// Do not prompt for confirmation (there is no prompt; accepted for docker compatibility)
        #[arg(short, long)]
        force: bool,
        /// Provide filter values (e.g. `label=k=v`)
        #[arg(long = "filter")]
        filters: Vec<String>,
    },
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag { source: String, target: String },
}

/// `stack image ls` / `stack images`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Show all images (there are no intermediate images; accepted for docker compatibility)
    #[arg(short, long)]
    all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Filter output (`reference=busy*`, `dangling=true`, `label=k=v`, `before=IMAGE`, `since=IMAGE`)
    #[arg(short, long = "filter")]
    filters: Vec<String>,
    /// Only images whose name matches REPOSITORY[:TAG]
    reference: Option<String>,
}

pub fn run(command: ImageCommand, env: &Environment) -> Result<ExitCode> {
    engine::with_client(env, |client| async move { execute(&client, command).await })
}

async fn execute(client: &bollard::Docker, command: ImageCommand) -> Result<ExitCode> {
    let mut failed = false;
    match command {
        ImageCommand::Import {
            changes,
            source,
            reference,
        } => {
            let body = bollard::body_try_stream(archive_stream(&source)?);
            let options = CreateImageOptions {
                from_src: Some("-".into()),
                repo: reference,
                changes,
                ..Default::default()
            };
            let mut progress = client.create_image(Some(options), Some(body), None);
            let mut id = None;
            while let Some(info) = progress.next().await {
                let info =
                    info.map_err(|e| anyhow::anyhow!("importing {source}: {}", api_message(&e)))?;
                id = info.status.or(id);
            }
            println!("{}", id.unwrap_or_default());
        }
        ImageCommand::Load { input, quiet } => {
            let source = match &input {
                Some(path) => path.to_string_lossy().into_owned(),
                None if io::stdin().is_terminal() => {
                    bail!("requested load from stdin, but stdin is a terminal; give -i FILE or pipe an archive in")
                }
                None => "-".to_string(),
            };
            let options = ImportImageOptions {
                quiet,
                ..Default::default()
            };
            let mut progress = client.import_image_stream(options, archive_stream(&source)?, None);
            while let Some(info) = progress.next().await {
                let info =
                    info.map_err(|e| anyhow::anyhow!("loading {source}: {}", api_message(&e)))?;
                if let Some(text) = info.stream {
                    print!("{text}");
                }
            }
        }
        ImageCommand::Ls(args) => list(client, args).await?,
        ImageCommand::Inspect { names } => {
            let mut found = Vec::new();
            for name in &names {
                match client.inspect_image(name).await {
                    Ok(image) => found.push(image),
                    Err(e) => {
                        eprintln!("error: {}", api_message(&e));
                        failed = true;
                    }
                }
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&found).context("rendering the images")?
            );
        }
        ImageCommand::Rm {
            force,
            no_prune,
            names,
        } => {
            for name in &names {
                let options = RemoveImageOptions {
                    force,
                    noprune: no_prune,
                    ..Default::default()
                };
                match client.remove_image(name, Some(options), None).await {
                    Ok(items) => {
                        for item in items {
                            if let Some(tag) = item.untagged {
                                println!("Untagged: {tag}");
                            }
                            if let Some(id) = item.deleted {
                                println!("Deleted: {id}");
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("error: removing image {name}: {}", api_message(&e));
                        failed = true;
                    }
                }
            }
        }
        ImageCommand::Prune {
            all,
            force: _,
            filters,
        } => {
            let mut filters = filter_map(&filters)?;
            if all {
                filters.insert("dangling".into(), vec!["false".into()]);
            }
            let report = client
                .prune_images(Some(PruneImagesOptions {
                    filters: Some(filters),
                }))
                .await
                .map_err(|e| anyhow::anyhow!("pruning images: {}", api_message(&e)))?;
            let deleted = report.images_deleted.unwrap_or_default();
            if !deleted.is_empty() {
                println!("Deleted Images:");
                for item in deleted {
                    if let Some(tag) = item.untagged {
                        println!("untagged: {tag}");
                    }
                    if let Some(id) = item.deleted {
                        println!("deleted: {id}");
                    }
                }
                println!();
            }
            let reclaimed = report.space_reclaimed.unwrap_or(0);
            println!("Total reclaimed space: {}", human_size(reclaimed));
        }
        ImageCommand::Tag { source, target } => {
            let (repo, tag) = split_tag(&target);
            let options = TagImageOptions {
                repo: Some(repo.to_string()),
                tag: tag.map(str::to_string),
            };
            client
                .tag_image(&source, Some(options))
                .await
                .map_err(|e| {
                    anyhow::anyhow!("tagging {source} as {target}: {}", api_message(&e))
                })?;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn list(client: &bollard::Docker, args: ListArgs) -> Result<()> {
    let mut filters = filter_map(&args.filters)?;
    if let Some(reference) = args.reference {
        filters
            .entry("reference".into())
            .or_default()
            .push(reference);
    }
    let images = client
        .list_images(Some(ListImagesOptions {
            all: args.all,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .map_err(|e| anyhow::anyhow!("listing images: {}", api_message(&e)))?;
    let id_of = |id: &str| -> String {
        if args.no_trunc {
            id.to_string()
        } else {
            id.trim_start_matches("sha256:").chars().take(12).collect()
        }
    };
    if args.quiet {
        let mut seen = BTreeSet::new();
        for image in &images {
            let id = id_of(&image.id);
            if seen.insert(id.clone()) {
                println!("{id}");
            }
        }
        return Ok(());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut rows = vec![["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"].map(String::from)];
    for image in &images {
        let created = human_duration(now - image.created) + " ago";
        let size = human_size(image.size);
        let names: Vec<(String, String)> = if image.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            image
                .repo_tags
                .iter()
                .map(|t| {
                    let (repo, tag) = split_tag(t);
                    (repo.to_string(), tag.unwrap_or("<none>").to_string())
                })
                .collect()
        };
        for (repo, tag) in names {
            rows.push([repo, tag, id_of(&image.id), created.clone(), size.clone()]);
        }
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Rows as docker's tab writer aligns them: each column as wide as its
/// widest cell plus 3 spaces, at least 10.
pub(crate) fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0) + 3)
        .map(|w| w.max(10))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}", width = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `busybox:1` → (`busybox`, `1`); a colon before the last `/` is a
/// registry port, not a tag.
pub(crate) fn split_tag(reference: &str) -> (&str, Option<&str>) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (reference, None),
    }
}

/// Sizes as docker prints them: decimal units, 3 significant digits.
pub(crate) fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{text}{}", UNITS[unit])
}

/// Durations as docker prints them (`About a minute`, `3 hours`, `2 weeks`).
fn human_duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let hours = minutes / 60;
    match seconds {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// The bytes of an archive: standard input (`-`), a file, or a directory
/// archived by `tar` as it goes.
fn archive_stream(source: &str) -> Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static> {
    if source == "-" {
        return Ok(chunks(Box::new(io::stdin()), None));
    }
    if source.contains("://") {
        bail!("{source}: importing from a URL is not supported; download it first or pipe it in with -");
    }
    let path = Path::new(source);
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {source}"))?;
    if meta.is_dir() {
        let mut child = Command::new("tar")
            .args(["--numeric-owner", "--xattrs", "-C"])
            .arg(path)
            .args(["-cf", "-", "."])
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("running tar to archive the directory {source}"))?;
        let stdout = child.stdout.take().context("tar's output is not a pipe")?;
        return Ok(chunks(Box::new(stdout), Some(child)));
    }
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {source}"))?;
    Ok(chunks(Box::new(file), None))
}

/// Reads `reader` chunk by chunk on blocking threads; at the end, a failed
/// `tar` becomes an error that aborts the upload (and so the import).
fn chunks(
    reader: Box<dyn Read + Send>,
    child: Option<Child>,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(Some((reader, child)), |state| async move {
        let (mut reader, child) = state?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; CHUNK];
            let n = reader.read(&mut buf);
            (reader, buf, n)
        })
        .await;
        match read {
            Err(e) => Some((Err(io::Error::other(e)), None)),
            Ok((_, _, Err(e))) => Some((Err(e), None)),
            Ok((_, _, Ok(0))) => {
                let mut child = child?;
                match child.wait() {
                    Ok(status) if status.success() => None,
                    Ok(status) => Some((
                        Err(io::Error::other(format!("tar failed ({status})"))),
                        None,
                    )),
                    Err(e) => Some((Err(e), None)),
                }
            }
            Ok((reader, mut buf, Ok(n))) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some((reader, child))))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_docker_prints_them() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_000), "1kB");
        assert_eq!(human_size(4_261_234), "4.26MB");
        assert_eq!(human_size(12_345_678), "12.3MB");
        assert_eq!(human_size(123_456_789), "123MB");
        assert_eq!(human_size(2_500_000_000), "2.5GB");
    }

    #[test]
    fn durations_as_docker_prints_them() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(90), "About a minute");
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(3_700), "About an hour");
        assert_eq!(human_duration(5 * 3600), "5 hours");
        assert_eq!(human_duration(3 * 86_400), "3 days");
        assert_eq!(human_duration(21 * 86_400), "3 weeks");
        assert_eq!(human_duration(90 * 86_400), "3 months");
        assert_eq!(human_duration(800 * 86_400), "2 years");
    }

    #[test]
    fn tags_and_registry_ports() {
        assert_eq!(split_tag("busybox:1"), ("busybox", Some("1")));
        assert_eq!(split_tag("busybox"), ("busybox", None));
        assert_eq!(
            split_tag("localhost:5000/app"),
            ("localhost:5000/app", None)
        );
        assert_eq!(
            split_tag("localhost:5000/app:v2"),
            ("localhost:5000/app", Some("v2"))
        );
    }

    #[test]
    fn tables_align_like_docker() {
        let rows = [
            ["REPOSITORY", "TAG"].map(String::from),
            ["busybox", "latest"].map(String::from),
        ];
        assert_eq!(table(&rows), "REPOSITORY   TAG\nbusybox      latest\n");
    }
}
