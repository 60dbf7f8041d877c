//! `network ls` output as docker prints it: the default table, `-q`,
//! `--format json`, `--format 'table TEMPLATE'` and plain templates, with
//! columns aligned as docker's tab writer aligns them.

use super::template::Template;
use anyhow::Result;
use bollard::models::Network;
use serde_json::{json, Value};

const DEFAULT_TABLE: &str = "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";

/// How `network ls` prints each network.
#[derive(Debug)]
pub(super) struct Format {
    template: Template,
    /// A header line (each field's column name) comes first.
    table: bool,
}

impl Format {
    /// The format docker would use for `--format` and `-q`; `-q` wins, as in docker.
    pub(super) fn choose(format: Option<&str>, quiet: bool) -> Result<Format> {
        let (text, table) = match format.map(str::trim) {
            _ if quiet => ("{{.ID}}", false),
            None | Some("table") | Some("") => (DEFAULT_TABLE, true),
            Some("json") => ("{{json .}}", false),
            Some(other) => match other.strip_prefix("table ") {
                Some(rest) => (rest.trim(), true),
                None => (other, false),
            },
        };
        // As docker does, `\t` and `\n` typed on the command line mean a tab and a newline.
        let text = text.replace("\\t", "\t").replace("\\n", "\n");
        Ok(Format {
            template: Template::parse(&text)?,
            table,
        })
    }
}

/// The fields a `network ls` template sees, as docker names and prints them.
fn row(network: &Network, no_trunc: bool) -> Value {
    let id = network.id.clone().unwrap_or_default();
    let id = if no_trunc {
        id
    } else {
        id.chars().take(12).collect()
    };
    let mut labels: Vec<String> = network
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    labels.sort();
    json!({
        "CreatedAt": go_time(network.created.as_deref().unwrap_or_default()),
        "Driver": network.driver.clone().unwrap_or_default(),
        "ID": id,
        "IPv4": network.enable_ipv4.unwrap_or(true).to_string(),
        "IPv6": network.enable_ipv6.unwrap_or(false).to_string(),
        "Internal": network.internal.unwrap_or(false).to_string(),
        "Labels": labels.join(","),
        "Name": network.name.clone().unwrap_or_default(),
        "Scope": network.scope.clone().unwrap_or_default(),
    })
}

/// The column names a table header shows for each field.
fn headers() -> Value {
    json!({
        "CreatedAt": "CREATED AT",
        "Driver": "DRIVER",
        "ID": "NETWORK ID",
        "IPv4": "IPV4",
        "IPv6": "IPV6",
        "Internal": "INTERNAL",
        "Labels": "LABELS",
        "Name": "NAME",
        "Scope": "SCOPE",
    })
}

/// `2026-11-23T13:16:07.5Z` as Go prints a time: `2026-11-23 13:16:07.5 +0000 UTC`.
fn go_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(utc) => format!("{} +0000 UTC", utc.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

/// The listing, sorted by name as docker sorts it.
pub(super) fn render(networks: &[Network], format: &Format, no_trunc: bool) -> Result<String> {
    let mut networks: Vec<&Network> = networks.iter().collect();
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    let mut lines = Vec::new();
    if format.table {
        lines.push(format.template.render(&headers())?);
    }
    for network in networks {
        lines.push(format.template.render(&row(network, no_trunc))?);
    }
    Ok(align(&lines))
}

/// Aligns tab-separated cells as docker's tab writer does (minimum width
/// 10, padding 3): every cell that a tab ends is padded to its column's width.
fn align(lines: &[String]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for line in lines.iter().flat_map(|l| l.split('\n')) {
        let cells: Vec<&str> = line.split('\t').collect();
        for (i, cell) in cells.iter().enumerate().take(cells.len() - 1) {
            let width = (cell.chars().count() + 3).max(10);
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut out = String::new();
    for line in lines.iter().flat_map(|l| l.split('\n')) {
        let cells: Vec<&str> = line.split('\t').collect();
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// `inspect` output: a JSON array, as the other inspect commands print it.
pub(super) fn pretty_json(values: &[Value]) -> Result<String> {
    Ok(serde_json::to_string_pretty(values)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn network(name: &str, id: &str) -> Network {
        Network {
            name: Some(name.into()),
            id: Some(id.into()),
            driver: Some("bridge".into()),
            scope: Some("local".into()),
            created: Some("2026-11-23T13:16:07.5Z".into()),
            labels: Some(HashMap::from([("team".to_owned(), "core".to_owned())])),
            ..Default::default()
        }
    }

    #[test]
    fn the_default_table_is_dockers() {
        let networks = [
            network("web", "b".repeat(64).as_str()),
            network("bridge", "a".repeat(64).as_str()),
        ];
        let format = Format::choose(None, false).expect("format");
        assert_eq!(
            render(&networks, &format, false).expect("render"),
            "NETWORK ID     NAME      DRIVER    SCOPE\n\
             aaaaaaaaaaaa   bridge    bridge    local\n\
             bbbbbbbbbbbb   web       bridge    local\n"
        );
        let quiet = Format::choose(Some("table"), true).expect("format");
        assert_eq!(
            render(&networks, &quiet, true).expect("render"),
            format!("{}\n{}\n", "a".repeat(64), "b".repeat(64))
        );
    }

    #[test]
    fn custom_formats() {
        let networks = [network("web", "0123456789abcdef")];
        let format =
            Format::choose(Some("{{.Name}}:{{.Labels}}:{{.Internal}}"), false).expect("format");
        assert_eq!(
            render(&networks, &format, false).expect("render"),
            "web:team=core:false\n"
        );
        let format =
            Format::choose(Some("table {{.Name}}\\t{{.CreatedAt}}"), false).expect("format");
        assert_eq!(
            render(&networks, &format, false).expect("render"),
            "NAME      CREATED AT\nweb       2026-11-23 13:16:07.5 +0000 UTC\n"
        );
        let format = Format::choose(Some("json"), false).expect("format");
        let line = render(&networks, &format, false).expect("render");
        let value: Value = serde_json::from_str(&line).expect("json line");
        assert_eq!(value["ID"], "0123456789ab");
        assert_eq!(value["Name"], "web");
    }
}
