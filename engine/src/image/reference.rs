//! Image references (`busybox`, `busybox:1.36`, `docker.io/library/busybox`,
//! `localhost:5000/app@sha256:…`) parsed and normalized the way Docker does.

use std::fmt;

use super::digest::Sha256;

/// The registry that names without a domain belong to.
const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's namespace for official images (`busybox` → `library/busybox`).
const OFFICIAL_NAMESPACE: &str = "library";
const DEFAULT_TAG: &str = "latest";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A normalized image reference: a repository plus a tag or a digest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Reference {
    /// `docker.io/library/busybox`.
    repository: String,
    /// The tag; `latest` when the reference named neither tag nor digest.
    tag: Option<String>,
    digest: Option<Sha256>,
}

/// Why a reference does not parse; the message says what form is expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Nothing was given.
    #[error("empty reference")]
    Empty,
    /// The repository has uppercase letters.
    #[error("repository name must be lowercase")]
    Uppercase,
    /// A path component is malformed.
    #[error("invalid repository name component {0:?} (use lowercase letters, digits and single . _ __ or - separators)")]
    BadComponent(String),
    /// The registry host or port is malformed.
    #[error("invalid registry {0:?}")]
    BadDomain(String),
    /// The tag is malformed.
    #[error("invalid tag {0:?} (up to 128 letters, digits, _ . -, not starting with . or -)")]
    BadTag(String),
    /// The digest is malformed or not sha256.
    #[error("invalid digest {0:?} (only sha256:<64 hex> is supported)")]
    BadDigest(String),
    /// The repository name is too long.
    #[error("repository name longer than 255 characters")]
    TooLong,
}

impl Reference {
    /// Parses and normalizes `text` (default domain, `library/`, `latest`).
    pub(crate) fn parse(text: &str) -> Result<Reference, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((rest, digest)) => (
                rest,
                Some(
                    Sha256::parse(digest)
                        .ok_or_else(|| ReferenceError::BadDigest(digest.to_string()))?,
                ),
            ),
            None => (text, None),
        };
        // A ':' after the last '/' starts the tag; earlier ones belong to a
        // registry port (`localhost:5000/app`).
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name_and_tag[..at], Some(&name_and_tag[at + 1..]))
            }
            None => (name_and_tag, None),
        };
        if let Some(tag) = tag {
            check_tag(tag)?;
        }
        let repository = normalize_name(name)?;
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            repository,
            tag,
            digest,
        })
    }

    /// A tagged reference to `repository`, which must already be normalized.
    pub(crate) fn with_tag(repository: &str, tag: &str) -> Reference {
        Reference {
            repository: repository.to_string(),
            tag: Some(tag.to_string()),
            digest: None,
        }
    }

    /// The normalized repository, e.g. `docker.io/library/busybox`.
    pub(crate) fn repository(&self) -> &str {
        &self.repository
    }

    pub(crate) fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub(crate) fn digest(&self) -> Option<&Sha256> {
        self.digest.as_ref()
    }

    /// The short form Docker prints: `busybox:latest`, `user/app:1`,
    /// `localhost:5000/app:1`.
    pub(crate) fn familiar(&self) -> String {
        let name = familiar_name(&self.repository);
        match (&self.tag, &self.digest) {
            (Some(tag), _) => format!("{name}:{tag}"),
            (None, Some(digest)) => format!("{name}@{digest}"),
            (None, None) => name.to_string(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Strips the default domain and `library/` for display.
pub(crate) fn familiar_name(repository: &str) -> &str {
    match repository.strip_prefix("docker.io/") {
        Some(rest) => rest.strip_prefix("library/").unwrap_or(rest),
        None => repository,
    }
}

fn normalize_name(name: &str) -> Result<String, ReferenceError> {
    let (domain, path) = split_domain(name);
    if path.is_empty() {
        return Err(ReferenceError::BadComponent(String::new()));
    }
    if let Some(domain) = domain {
        check_domain(domain)?;
    }
    for component in path.split('/') {
        check_component(component)?;
    }
    let domain = match domain {
        None | Some("index.docker.io") => DEFAULT_DOMAIN,
        Some(domain) => domain,
    };
    let full = if domain == DEFAULT_DOMAIN && !path.contains('/') {
        format!("{domain}/{OFFICIAL_NAMESPACE}/{path}")
    } else {
        format!("{domain}/{path}")
    };
    if full.len() > MAX_NAME_LEN {
        return Err(ReferenceError::TooLong);
    }
    Ok(full)
}

/// The first component is a registry when it looks like a host: it has a
/// dot or a port, or is `localhost` (Docker's rule).
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn check_domain(domain: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::BadDomain(domain.to_string());
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// One path component: lowercase alphanumerics joined by `.`, `_`, `__` or
/// runs of `-`.
fn check_component(component: &str) -> Result<(), ReferenceError> {
    if component.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceError::Uppercase);
    }
    let bad = || ReferenceError::BadComponent(component.to_string());
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(bad());
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), ReferenceError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = !tag.is_empty()
        && tag.len() <= MAX_TAG_LEN
        && word(tag.as_bytes()[0])
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::BadTag(tag.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(text: &str) -> String {
        Reference::parse(text).unwrap().to_string()
    }

    #[test]
    fn normalizes_like_docker() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(
            full("docker.io/library/busybox:latest"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            full("index.docker.io/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(full("user/app"), "docker.io/user/app:latest");
        assert_eq!(full("localhost/app"), "localhost/app:latest");
        assert_eq!(full("localhost:5000/a/b:v1"), "localhost:5000/a/b:v1");
        assert_eq!(
            full("ghcr.io/o/r_x__y.z-w--v:1.0_rc-2"),
            "ghcr.io/o/r_x__y.z-w--v:1.0_rc-2"
        );
    }

    #[test]
    fn digests_replace_the_default_tag() {
        let hex = "a".repeat(64);
        let reference = Reference::parse(&format!("busybox@sha256:{hex}")).unwrap();
        assert_eq!(reference.tag(), None);
        assert_eq!(reference.digest().unwrap().hex(), hex);
        assert_eq!(reference.familiar(), format!("busybox@sha256:{hex}"));
        let both = Reference::parse(&format!("busybox:1@sha256:{hex}")).unwrap();
        assert_eq!(both.tag(), Some("1"));
    }

    #[test]
    fn familiar_form_drops_defaults() {
        let familiar = |t: &str| Reference::parse(t).unwrap().familiar();
        assert_eq!(familiar("docker.io/library/busybox"), "busybox:latest");
        assert_eq!(familiar("user/app:2"), "user/app:2");
        assert_eq!(familiar("localhost:5000/app:1"), "localhost:5000/app:1");
    }

    #[test]
    fn rejects_malformed_references() {
        let err = |t: &str| Reference::parse(t).unwrap_err();
        assert_eq!(err(""), ReferenceError::Empty);
        assert_eq!(err("BusyBox"), ReferenceError::Uppercase);
        assert!(matches!(err("busy..box"), ReferenceError::BadComponent(_)));
        assert!(matches!(err("-busybox"), ReferenceError::BadComponent(_)));
        assert!(matches!(err("a//b"), ReferenceError::BadComponent(_)));
        assert!(matches!(err("busybox:"), ReferenceError::BadTag(_)));
        assert!(matches!(err("busybox:.x"), ReferenceError::BadTag(_)));
        assert!(matches!(
            err("busybox@sha256:abc"),
            ReferenceError::BadDigest(_)
        ));
        assert!(matches!(
            err("bad_host.io:x/app"),
            ReferenceError::BadDomain(_)
        ));
        assert!(matches!(
            err(&format!("busybox:{}", "a".repeat(129))),
            ReferenceError::BadTag(_)
        ));
        assert_eq!(err(&"a".repeat(256)), ReferenceError::TooLong);
    }
}
