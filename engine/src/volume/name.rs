//! Volume names, checked once at the boundary.

use std::fmt;

/// A volume name as Docker accepts it: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. The name
/// becomes a directory under the state root, so nothing else gets through.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct VolumeName(String);

/// Why a string is not a volume name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid volume name {0:?}: use at least two characters from [a-zA-Z0-9_.-], starting with a letter or digit"
)]
pub(crate) struct InvalidVolumeName(pub(crate) String);

impl VolumeName {
    pub(crate) fn parse(name: &str) -> Result<VolumeName, InvalidVolumeName> {
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        // 255 bytes is the longest directory name most filesystems take.
        if first_ok && rest_ok && (2..=255).contains(&name.len()) {
            Ok(VolumeName(name.to_string()))
        } else {
            Err(InvalidVolumeName(name.to_string()))
        }
    }

    /// A fresh anonymous name: 64 random hex digits, as Docker makes them.
    pub(crate) fn random() -> std::io::Result<VolumeName> {
        let mut bytes = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
        Ok(VolumeName(
            bytes.iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VolumeName {
    type Error = InvalidVolumeName;

    fn try_from(name: String) -> Result<VolumeName, InvalidVolumeName> {
        VolumeName::parse(&name)
    }
}

impl From<VolumeName> for String {
    fn from(name: VolumeName) -> String {
        name.0
    }
}

impl fmt::Display for VolumeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_names_and_refuses_paths() {
        for ok in ["db", "my_vol.1-x", "0a"] {
            assert!(VolumeName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "../x", "a/b", ".hidden", "-x", "x y", "é1"] {
            assert!(VolumeName::parse(bad).is_err(), "{bad}");
        }
        let random = VolumeName::random().unwrap();
        assert_eq!(random.as_str().len(), 64);
        assert!(VolumeName::parse(random.as_str()).is_ok());
    }
}
