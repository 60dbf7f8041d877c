//! The checked names served in DNS: [`DnsName`] and [`NetworkName`].

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Longest name in presentation form without the trailing dot (RFC 1035
/// allows 255 octets on the wire, which is 253 characters of text).
const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// A name that can be served as a DNS record: dot-separated labels of ASCII
/// letters, digits, `-` and `_`, each 1 to 63 characters, not starting with
/// `-`, at most 253 characters in all. Stored in lower case, without a
/// trailing dot, so lookups are case-insensitive.
///
/// `_` and a trailing `-` are accepted although hostnames (RFC 952) forbid
/// them, because Docker accepts them in container names and aliases and
/// resolves those names.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsName(Arc<str>);

impl DnsName {
    /// Checks `text` and returns it as a name in lower case. One trailing dot
    /// (fully-qualified form) is accepted and dropped.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let invalid = |reason| NameError {
            name: text.to_owned(),
            reason,
        };
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        if trimmed.is_empty() {
            return Err(invalid(NameErrorReason::Empty));
        }
        if trimmed.len() > MAX_NAME_LEN {
            return Err(invalid(NameErrorReason::TooLong));
        }
        for label in trimmed.split('.') {
            if label.is_empty() {
                return Err(invalid(NameErrorReason::EmptyLabel));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(invalid(NameErrorReason::LabelTooLong(label.to_owned())));
            }
            if label.starts_with('-') {
                return Err(invalid(NameErrorReason::LeadingHyphen(label.to_owned())));
            }
            if let Some(c) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return Err(invalid(NameErrorReason::InvalidChar(c)));
            }
        }
        Ok(DnsName(trimmed.to_ascii_lowercase().into()))
    }

    /// The name in lower case, without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DnsName {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, NameError> {
        DnsName::parse(text)
    }
}

impl Borrow<str> for DnsName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// The name of a network as the engine knows it, following Docker's rule for
/// network names: a letter or digit, then letters, digits, `_`, `.` or `-`.
/// Case is kept (Docker's network names are case-sensitive); the
/// `name.network` form of queries matches it case-insensitively.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetworkName(Arc<str>);

impl NetworkName {
    /// Checks `text` against Docker's network name rule.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let invalid = |reason| NameError {
            name: text.to_owned(),
            reason,
        };
        let mut chars = text.chars();
        match chars.next() {
            None => return Err(invalid(NameErrorReason::Empty)),
            Some(c) if !c.is_ascii_alphanumeric() => {
                return Err(invalid(NameErrorReason::InvalidChar(c)))
            }
            Some(_) => {}
        }
        if let Some(c) =
            chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(invalid(NameErrorReason::InvalidChar(c)));
        }
        Ok(NetworkName(text.into()))
    }

    /// The network name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for NetworkName {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, NameError> {
        NetworkName::parse(text)
    }
}

impl Borrow<str> for NetworkName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NetworkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NetworkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// A name that cannot be used as a DNS name or network name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot use {name:?} as a name in DNS: {reason}")]
pub struct NameError {
    /// The rejected text.
    pub name: String,
    /// What is wrong with it.
    pub reason: NameErrorReason,
}

/// Why a name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameErrorReason {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// The name is longer than 253 characters.
    #[error("the name is longer than {MAX_NAME_LEN} characters")]
    TooLong,
    /// Two dots in a row, or a leading dot.
    #[error("the name has an empty label (two dots in a row or a leading dot)")]
    EmptyLabel,
    /// One label is longer than 63 characters.
    #[error("the label {0:?} is longer than {MAX_LABEL_LEN} characters")]
    LabelTooLong(String),
    /// A label starts with `-`.
    #[error("the label {0:?} starts with '-'")]
    LeadingHyphen(String),
    /// A character outside letters, digits, `-`, `_` (and `.` between labels).
    #[error("{0:?} is not allowed (use letters, digits, '-', '_' and '.')")]
    InvalidChar(char),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> DnsName {
        DnsName::parse(text).unwrap()
    }

    fn net(text: &str) -> NetworkName {
        NetworkName::parse(text).unwrap()
    }

    #[test]
    fn names_are_lower_case_without_trailing_dot() {
        assert_eq!(name("Web.Example.").as_str(), "web.example");
        assert_eq!(name("my_app-1").as_str(), "my_app-1");
        assert_eq!(name("1db").as_str(), "1db");
    }

    #[test]
    fn bad_names_say_why() {
        let reason = |text: &str| DnsName::parse(text).unwrap_err().reason;
        assert_eq!(reason(""), NameErrorReason::Empty);
        assert_eq!(reason("."), NameErrorReason::Empty);
        assert_eq!(reason("a..b"), NameErrorReason::EmptyLabel);
        assert_eq!(reason(".a"), NameErrorReason::EmptyLabel);
        assert_eq!(
            reason("-web"),
            NameErrorReason::LeadingHyphen("-web".to_owned())
        );
        assert_eq!(reason("we b"), NameErrorReason::InvalidChar(' '));
        assert_eq!(reason("wéb"), NameErrorReason::InvalidChar('é'));
        let long_label = "a".repeat(64);
        assert_eq!(
            reason(&long_label),
            NameErrorReason::LabelTooLong(long_label.clone())
        );
        let long_name = vec!["abcdefgh"; 30].join(".");
        assert_eq!(reason(&long_name), NameErrorReason::TooLong);
        assert_eq!(
            DnsName::parse("we b").unwrap_err().to_string(),
            "cannot use \"we b\" as a name in DNS: ' ' is not allowed (use letters, digits, '-', '_' and '.')"
        );
    }

    #[test]
    fn network_names_follow_docker() {
        assert_eq!(net("Proj_default").as_str(), "Proj_default");
        assert_eq!(net("a.b-c").as_str(), "a.b-c");
        assert!(NetworkName::parse("").is_err());
        assert!(NetworkName::parse("_x").is_err());
        assert!(NetworkName::parse("a/b").is_err());
    }
}
