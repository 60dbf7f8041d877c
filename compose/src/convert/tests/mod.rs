//! Conversion tests: YAML in, model / JSON / exact errors out.

mod errors;
mod projects;
mod syntax;

use super::{project, ConvertContext, Converted};
use crate::env::Environment;
use crate::model::{
    NetworkMode, PortMode, Project, Protocol, RestartPolicy, ServiceCondition, Ulimit, VolumeType,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

fn convert_env(yaml: &str, env: &[(&str, &str)]) -> Converted {
    let docs = crate::yaml::parse(yaml, &Arc::from("compose.yaml")).unwrap();
    let env: Environment = env.iter().copied().collect();
    let ctx = ConvertContext {
        project_name: "demo".into(),
        project_dir: PathBuf::from("/proj"),
        env: &env,
    };
    project(&docs[0], &ctx)
}

fn ok(yaml: &str) -> Project {
    let c = convert_env(yaml, &[("HOME", "/home/me")]);
    let errors: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    c.project
}

fn json_of(yaml: &str) -> Value {
    serde_json::to_value(ok(yaml)).unwrap()
}

/// The JSON of service `web`.
fn web(yaml: &str) -> Value {
    json_of(yaml)["services"]["web"].clone()
}

fn errors(yaml: &str) -> Vec<String> {
    let c = convert_env(yaml, &[]);
    c.errors.iter().map(ToString::to_string).collect()
}
