//! Pure shaping for `/images`: the store's values as Docker's JSON, the
//! list filters, and the messages of load and remove.

use std::collections::HashMap;

use bollard_stubs::models::{
    DriverData, ImageConfig, ImageDeleteResponseItem, ImageInspect, ImageInspectRootFs,
    ImageSummary,
};

use super::super::filters::Filters;
use crate::image::{self, ImageDetails, LoadedImage, Removed};

/// `Id` as Docker writes it: `sha256:` and the hex digest.
pub(super) fn full_id(id: &image::ImageId) -> String {
    format!("sha256:{}", id.hex())
}

/// One entry of `GET /images/json`. Sizes of shared layers and container
/// counts are not computed, which Docker reports as -1.
pub(super) fn summary(image: &image::ImageSummary, tags: Vec<String>) -> ImageSummary {
    ImageSummary {
        id: full_id(&image.id),
        parent_id: String::new(),
        repo_tags: tags,
        repo_digests: Vec::new(),
        created: created_seconds(image),
        size: i64::try_from(image.size).unwrap_or(i64::MAX),
        shared_size: -1,
        labels: image.labels.clone().into_iter().collect(),
        containers: -1,
        manifests: None,
        descriptor: None,
    }
}

/// The image's creation time in Unix seconds (0 when unknown, as Docker).
pub(super) fn created_seconds(image: &image::ImageSummary) -> i64 {
    image.created.as_deref().and_then(unix_seconds).unwrap_or(0)
}

/// `GET /images/{name}/json`: the config's Docker fields (including the
/// Docker-only `Healthcheck`, `Shell`, `OnBuild`) come from the stored JSON.
pub(super) fn inspect(details: &ImageDetails) -> ImageInspect {
    let raw = &details.raw_config;
    let text = |key: &str| raw.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let config = raw
        .get("config")
        .and_then(|c| serde_json::from_value::<ImageConfig>(c.clone()).ok())
        .unwrap_or_default();
    // An imported image says where it came from in its last history entry.
    let history_comment = raw
        .get("history")
        .and_then(|h| h.as_array())
        .and_then(|h| h.last())
        .and_then(|h| h.get("comment"))
        .and_then(|c| c.as_str())
        .map(str::to_string);
    let lower: Vec<String> = details
        .layers
        .iter()
        .rev()
        .map(|l| l.path.display().to_string())
        .collect();
    ImageInspect {
        id: Some(full_id(&details.summary.id)),
        repo_tags: Some(details.summary.repo_tags.clone()),
        repo_digests: Some(Vec::new()),
        comment: text("comment").or(history_comment).or(Some(String::new())),
        created: details.summary.created.clone(),
        author: Some(text("author").unwrap_or_default()),
        config: Some(config),
        architecture: text("architecture"),
        variant: text("variant"),
        os: text("os"),
        os_version: text("os.version"),
        size: Some(i64::try_from(details.summary.size).unwrap_or(i64::MAX)),
        graph_driver: Some(DriverData {
            name: "overlay".to_string(),
            data: HashMap::from([("LowerDir".to_string(), lower.join(":"))]),
        }),
        root_fs: Some(ImageInspectRootFs {
            typ: "layers".to_string(),
            layers: Some(details.layers.iter().map(|l| l.diff_id.clone()).collect()),
        }),
        ..Default::default()
    }
}

/// The filters of `GET /images/json`, with `before`/`since` already
/// resolved to creation times.
pub(super) struct ListFilter<'a> {
    pub(super) filters: &'a Filters,
    pub(super) dangling: Option<bool>,
    pub(super) before: Option<i64>,
    pub(super) since: Option<i64>,
}

impl ListFilter<'_> {
    /// The image as listed, or `None` when a filter excludes it. With a
    /// `reference` filter only the matching tags are listed, as in Docker.
    pub(super) fn select(&self, image: &image::ImageSummary) -> Option<ImageSummary> {
        let created = created_seconds(image);
        let labels: HashMap<String, String> = image.labels.clone().into_iter().collect();
        let dangling = image.repo_tags.is_empty();
        if self.dangling.is_some_and(|want| want != dangling)
            || self.before.is_some_and(|t| created >= t)
            || self.since.is_some_and(|t| created <= t)
            || !self.filters.labels_match("label", &labels)
        {
            return None;
        }
        let patterns = self.filters.values("reference");
        let tags: Vec<String> = image
            .repo_tags
            .iter()
            .filter(|tag| patterns.is_empty() || patterns.iter().any(|p| reference_matches(p, tag)))
            .cloned()
            .collect();
        if !patterns.is_empty() && tags.is_empty() {
            return None;
        }
        Some(summary(image, tags))
    }
}

/// Docker's reference filter: `pattern` (with `*` and `?` as in shell
/// globs, not crossing `/`) matches the tag `name:tag` or just its name.
pub(super) fn reference_matches(pattern: &str, tag: &str) -> bool {
    let name = match tag.rsplit_once(':') {
        Some((name, t)) if !t.contains('/') => name,
        _ => tag,
    };
    glob(pattern.as_bytes(), tag.as_bytes()) || glob(pattern.as_bytes(), name.as_bytes())
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => {
            // `*` takes as many non-`/` bytes as lets the rest match.
            let span = text.iter().take_while(|b| **b != b'/').count();
            (0..=span).any(|n| glob(rest, &text[n..]))
        }
        Some((b'?', rest)) => text
            .split_first()
            .is_some_and(|(c, tail)| *c != b'/' && glob(rest, tail)),
        Some((p, rest)) => text
            .split_first()
            .is_some_and(|(c, tail)| c == p && glob(rest, tail)),
    }
}

/// The lines `POST /images/load` streams, as Docker writes them.
pub(super) fn load_messages(loaded: &[LoadedImage]) -> Vec<String> {
    let mut lines = Vec::new();
    for image in loaded {
        if image.tags.is_empty() {
            lines.push(format!("Loaded image ID: {}\n", full_id(&image.id)));
        }
        for tag in &image.tags {
            lines.push(format!("Loaded image: {tag}\n"));
        }
    }
    lines
}

/// One step of a removal in Docker's response shape.
pub(super) fn removed_item(step: &Removed) -> ImageDeleteResponseItem {
    match step {
        Removed::Untagged(tag) => ImageDeleteResponseItem {
            untagged: Some(tag.clone()),
            deleted: None,
        },
        Removed::Deleted(id) => ImageDeleteResponseItem {
            untagged: None,
            deleted: Some(full_id(id)),
        },
    }
}

/// Parses an RFC 3339 time (`2024-05-01T12:34:56.5Z`, `...+02:00`) to
/// Unix seconds.
pub(super) fn unix_seconds(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |from: usize, to: usize| -> Option<i64> {
        let digits = text.get(from..to)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if bytes.len() < 20
        || separators.iter().any(|(i, c)| bytes[*i] != *c)
        || !matches!(bytes[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        rest = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest.get(1..)?.split_once(':')?;
            let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(h) || !digits(m) {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a calendar date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn rfc3339_times() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            unix_seconds("2024-05-01T12:34:56.123456789Z"),
            Some(1_714_566_896)
        );
        assert_eq!(
            unix_seconds("2024-05-01T14:34:56+02:00"),
            Some(1_714_566_896)
        );
        assert_eq!(unix_seconds("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2024-05-01T00:00:00",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn reference_patterns() {
        assert!(reference_matches("busybox", "busybox:latest"));
        assert!(reference_matches("busybox:latest", "busybox:latest"));
        assert!(reference_matches("busy*", "busybox:latest"));
        assert!(reference_matches("*:1.?", "app:1.2"));
        assert!(!reference_matches("busybox:1", "busybox:latest"));
        assert!(!reference_matches("*", "ghcr.io/a/b:1"));
        assert!(reference_matches("ghcr.io/*/b", "ghcr.io/a/b:1"));
        assert!(reference_matches(
            "localhost:5000/app",
            "localhost:5000/app:v1"
        ));
    }

    fn image(
        hex_char: char,
        tags: &[&str],
        created: &str,
        labels: &[(&str, &str)],
    ) -> image::ImageSummary {
        let hex: String = std::iter::repeat_n(hex_char, 64).collect();
        let id = image::ImageId(format!("sha256:{hex}").try_into().unwrap());
        image::ImageSummary {
            id,
            repo_tags: tags.iter().map(|t| t.to_string()).collect(),
            created: Some(created.to_string()),
            size: 42,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn select(
        raw: &str,
        before: Option<i64>,
        since: Option<i64>,
        image: &image::ImageSummary,
    ) -> Option<ImageSummary> {
        let filters = Filters::parse(
            Some(raw),
            &["reference", "label", "dangling", "before", "since"],
        )
        .unwrap();
        let dangling = filters.boolean("dangling").unwrap();
        ListFilter {
            filters: &filters,
            dangling,
            before,
            since,
        }
        .select(image)
    }

    #[test]
    fn list_filters() {
        let tagged = image(
            'a',
            &["busybox:latest", "busybox:1"],
            "2024-01-01T00:00:00Z",
            &[("team", "core")],
        );
        let dangling = image('b', &[], "2024-01-02T00:00:00Z", &[]);
        let all = select("{}", None, None, &tagged).unwrap();
        assert_eq!(all.id, format!("sha256:{}", "a".repeat(64)));
        assert_eq!(all.repo_tags, ["busybox:latest", "busybox:1"]);
        assert_eq!(all.created, 1_704_067_200);
        assert_eq!((all.size, all.shared_size, all.containers), (42, -1, -1));
        assert_eq!(all.labels["team"], "core");

        let only = select(r#"{"reference":["*:1"]}"#, None, None, &tagged).unwrap();
        assert_eq!(only.repo_tags, ["busybox:1"]);
        assert!(select(r#"{"reference":["busybox"]}"#, None, None, &dangling).is_none());

        assert!(select(r#"{"dangling":["true"]}"#, None, None, &tagged).is_none());
        assert!(select(r#"{"dangling":["true"]}"#, None, None, &dangling).is_some());
        assert!(select(r#"{"dangling":["false"]}"#, None, None, &dangling).is_none());

        assert!(select(r#"{"label":["team=core"]}"#, None, None, &tagged).is_some());
        assert!(select(r#"{"label":["team=web"]}"#, None, None, &tagged).is_none());

        let jan2 = 1_704_153_600;
        assert!(select("{}", Some(jan2), None, &tagged).is_some());
        assert!(select("{}", Some(jan2), None, &dangling).is_none());
        assert!(select("{}", None, Some(1_704_067_200), &dangling).is_some());
        assert!(select("{}", None, Some(1_704_067_200), &tagged).is_none());
    }

    #[test]
    fn load_and_remove_messages() {
        let a = image('a', &[], "2024-01-01T00:00:00Z", &[]).id;
        let loaded = [
            LoadedImage {
                id: a.clone(),
                tags: vec!["busybox:latest".into()],
            },
            LoadedImage {
                id: a.clone(),
                tags: Vec::new(),
            },
        ];
        assert_eq!(
            load_messages(&loaded),
            [
                "Loaded image: busybox:latest\n".to_string(),
                format!("Loaded image ID: sha256:{}\n", "a".repeat(64)),
            ]
        );
        let untag = serde_json::to_string(&removed_item(&Removed::Untagged("x:1".into()))).unwrap();
        assert_eq!(untag, r#"{"Untagged":"x:1"}"#);
        let delete = serde_json::to_value(removed_item(&Removed::Deleted(a))).unwrap();
        assert_eq!(delete["Deleted"], format!("sha256:{}", "a".repeat(64)));
    }
}
