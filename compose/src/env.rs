//! The environment that interpolation reads: the process environment merged
//! over `.env` / `--env-file` values. It is always passed in, never read from
//! the process by the loader itself, so tests control it completely.
//!
//! `.env` files themselves are parsed by [`parse_dotenv`] (see `dotenv`).

mod dotenv;

pub use dotenv::{parse_dotenv, parse_dotenv_files};

use std::collections::BTreeMap;

/// Variables visible to interpolation, `COMPOSE_*` settings and `env_file`
/// resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// An empty environment.
    pub fn new() -> Self {
        Environment::default()
    }

    /// The value of `name`; `None` when unset (which is not the same as empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Sets `name`, replacing any earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Every variable, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Environment {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// The environment interpolation sees: `.env` values, overridden by the
/// process environment, which always wins (Compose's precedence).
pub fn layered(process: &Environment, dotenv: Vec<(String, String)>) -> Environment {
    let mut env: Environment = dotenv.into_iter().collect();
    for (name, value) in process.iter() {
        env.set(name, value);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn process_environment_wins_over_dotenv() {
        let process: Environment = [("A", "process"), ("P", "only-process")]
            .into_iter()
            .collect();
        let env = layered(&process, pairs(&[("A", "dotenv"), ("D", "only-dotenv")]));
        assert_eq!(env.get("A"), Some("process"));
        assert_eq!(env.get("P"), Some("only-process"));
        assert_eq!(env.get("D"), Some("only-dotenv"));
        assert_eq!(env.iter().count(), 3);
    }
}
