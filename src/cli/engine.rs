//! What every engine command shares: a client for the engine the
//! environment names (starting the embedded daemon when needed), Docker's
//! `--filter` syntax and the engine's own error messages.

use crate::daemon_launcher::Target;
use crate::engine_client;
use anyhow::{bail, Context, Result};
use bollard::errors::Error as ApiError;
use bollard::Docker;
use stack_compose::env::Environment;
use std::collections::HashMap;
use std::future::Future;

/// Runs `work` with a connected client on a single-threaded runtime (one
/// command is one short conversation with the engine).
pub(super) fn with_client<T, F, Fut>(env: &Environment, work: F) -> Result<T>
where
    F: FnOnce(Docker) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let target = Target::from_env(env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let client = engine_client::connect(&target).await?;
        work(client).await
    })
}

/// `--filter key=value` flags into Docker's filter map (`label=a=b` keeps `a=b`).
pub(super) fn filter_map(filters: &[String]) -> Result<HashMap<String, Vec<String>>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for f in filters {
        let Some((key, value)) = f.split_once('=') else {
            bail!("invalid --filter {f:?}: write KEY=VALUE, e.g. dangling=true or label=com.example=1");
        };
        map.entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }
    Ok(map)
}

/// The engine's own message for an API error, without bollard's wrapping.
pub(super) fn api_message(e: &ApiError) -> String {
    match e {
        ApiError::DockerResponseServerError { message, .. } => message.clone(),
        ApiError::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_everything_after_the_first_equals() {
        let map =
            filter_map(&["label=com.example=1".into(), "dangling=true".into()]).expect("filters");
        assert_eq!(map["label"], vec!["com.example=1".to_string()]);
        assert_eq!(map["dangling"], vec!["true".to_string()]);
        assert!(filter_map(&["nonsense".into()]).is_err());
    }
}
