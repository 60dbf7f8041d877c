//! `stack container ps`: the container table, as `docker ps` prints it.

use super::api_message;
use anyhow::{anyhow, Result};
use bollard::query_parameters::ListContainersOptions;
use bollard::Docker;
use std::collections::HashMap;

/// Lists containers: ids only with `quiet`, else docker's table.
pub(super) async fn ps(
    client: &Docker,
    all: bool,
    quiet: bool,
    filters: &[String],
    no_trunc: bool,
) -> Result<()> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for filter in filters {
        let (key, value) = filter
            .split_once('=')
            .ok_or_else(|| anyhow!("bad format of filter {filter:?} (expected name=value)"))?;
        map.entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    let options = ListContainersOptions {
        all,
        filters: Some(map),
        ..Default::default()
    };
    let list = client
        .list_containers(Some(options))
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let short = |id: &str| {
        if no_trunc {
            id.to_owned()
        } else {
            id.chars().take(12).collect()
        }
    };
    if quiet {
        for c in &list {
            println!("{}", short(c.id.as_deref().unwrap_or_default()));
        }
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut rows = vec![[
        "CONTAINER ID".to_owned(),
        "IMAGE".to_owned(),
        "COMMAND".to_owned(),
        "CREATED".to_owned(),
        "STATUS".to_owned(),
        "PORTS".to_owned(),
        "NAMES".to_owned(),
    ]];
    for c in &list {
        let command = c.command.clone().unwrap_or_default();
        let command = if !no_trunc && command.chars().count() > 20 {
            format!("\"{}…\"", command.chars().take(19).collect::<String>())
        } else {
            format!("\"{command}\"")
        };
        let names = c.names.clone().unwrap_or_default();
        rows.push([
            short(c.id.as_deref().unwrap_or_default()),
            c.image.clone().unwrap_or_default(),
            command,
            format!("{} ago", human_duration(now - c.created.unwrap_or(now))),
            c.status.clone().unwrap_or_default(),
            super::port::column(c.ports.as_deref().unwrap_or_default()),
            names
                .iter()
                .map(|n| n.trim_start_matches('/'))
                .collect::<Vec<_>>()
                .join(","),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Columns padded to their widest cell, three spaces apart, like docker's tables.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 3));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `5 seconds`, `3 minutes`, as docker prints ages.
fn human_duration(seconds: i64) -> String {
    match seconds.max(0) {
        0 => "Less than a second".to_owned(),
        1 => "1 second".to_owned(),
        s @ 2..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".to_owned(),
        s @ 120..=3599 => format!("{} minutes", s / 60),
        3600..=7199 => "About an hour".to_owned(),
        s @ 7200..=172_799 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns() {
        let rows = [
            ["A".to_owned(), "B".to_owned()],
            ["long".to_owned(), "x".to_owned()],
        ];
        assert_eq!(table(&rows), "A      B\nlong   x\n");
    }
}
