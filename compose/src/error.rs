//! Load errors and warnings: every one names where (file, line, column),
//! which key (`services.web.ports[1]`), what is wrong and what to do.

use std::fmt;
use std::sync::Arc;

/// A position in a source file. Lines and columns are 1-based, as editors show them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file as the user named it (or as it was found).
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(file: Arc<str>, line: usize, column: usize) -> Self {
        Location { file, line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem found while loading a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// Where the offending node is, when it comes from a file.
    pub location: Option<Location>,
    /// The key path of the offending node (`services.web.ports[1]`), empty for
    /// file-level problems.
    pub path: String,
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl LoadError {
    pub fn new(
        location: Option<Location>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        LoadError {
            location,
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Every problem found in one pass, in a deterministic order (by file, line,
/// column, then path), so users and golden tests see the same text every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadErrors(pub Vec<LoadError>);

impl LoadErrors {
    pub fn sorted(mut errors: Vec<LoadError>) -> Self {
        errors.sort_by(|a, b| {
            (&a.location, &a.path, &a.message).cmp(&(&b.location, &b.path, &b.message))
        });
        errors.dedup();
        LoadErrors(errors)
    }
}

impl From<LoadError> for LoadErrors {
    fn from(e: LoadError) -> Self {
        LoadErrors(vec![e])
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// Something valid that `stack` keeps in the model but does not act on (yet),
/// or that Compose itself would warn about. Reported once per attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub location: Option<Location>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}
