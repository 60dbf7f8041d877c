//! The environment that interpolation reads: the process environment merged
//! over `.env` / `--env-file` values. It is always passed in, never read from
//! the process by the loader itself, so tests control it completely.

use std::collections::BTreeMap;

/// Variables visible to interpolation, `COMPOSE_*` settings and `env_file`
/// resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    pub fn new() -> Self {
        Environment::default()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Environment {
            vars: iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        }
    }
}
