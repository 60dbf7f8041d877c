//! `security_opt: seccomp=FILE` (or `seccomp:FILE`): the engine takes a
//! profile's JSON content, not a path, so the client reads the file and
//! sends `seccomp=<JSON>`, as the docker CLI does for `--security-opt` and
//! Docker Compose does for a service (a relative path from the project
//! directory). `seccomp=unconfined` and `seccomp=builtin` are names, not
//! files; every other option passes through unchanged for the engine to
//! check.

use stack_compose::model::Project;
use std::path::Path;

/// The options with every seccomp profile file replaced by its content;
/// relative paths are read from `base`. The error names the option (in
/// quotes, for the caller to say where it comes from) and the file.
pub fn read_profiles(options: &[String], base: &Path) -> Result<Vec<String>, String> {
    options
        .iter()
        .map(|option| {
            let split = match option.split_once('=') {
                None if option != "no-new-privileges" => option.split_once(':'),
                split => split,
            };
            match split {
                Some(("seccomp", value)) if !matches!(value, "unconfined" | "builtin" | "") => {
                    read_profile(value, base)
                        .map(|json| format!("seccomp={json}"))
                        .map_err(|e| format!("{option:?}: {e}"))
                }
                _ => Ok(option.clone()),
            }
        })
        .collect()
}

/// The JSON of the profile at `path`, compacted.
fn read_profile(path: &str, base: &Path) -> Result<String, String> {
    let file = base.join(path);
    let text = std::fs::read(&file).map_err(|e| {
        format!(
            "cannot read the seccomp profile {}: {e} (give the path of a JSON profile file)",
            file.display()
        )
    })?;
    let json: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        format!(
            "the seccomp profile {} is not JSON: {e} (give a profile in Docker's JSON format)",
            file.display()
        )
    })?;
    Ok(json.to_string())
}

/// Replaces every service's seccomp profile files by their content, read
/// from the project directory `project_dir`; the error lists every service
/// whose profile cannot be read.
pub fn read_project_profiles(project: &mut Project, project_dir: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    for (name, service) in &mut project.services {
        match read_profiles(&service.security_opt, project_dir) {
            Ok(options) => service.security_opt = options,
            Err(e) => problems.push(format!("service {name}: security_opt {e}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn profile_files_become_their_content_and_names_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("deny.json"),
            "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n",
        )
        .unwrap();
        let options = strings(&[
            "seccomp:deny.json",
            "seccomp=unconfined",
            "seccomp:builtin",
            "no-new-privileges:true",
            "no-new-privileges",
            "label:disable",
            &format!("seccomp={}", dir.path().join("deny.json").display()),
        ]);
        let read = read_profiles(&options, dir.path()).unwrap();
        assert_eq!(
            read,
            [
                r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#,
                "seccomp=unconfined",
                "seccomp:builtin",
                "no-new-privileges:true",
                "no-new-privileges",
                "label:disable",
                r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#,
            ]
        );
    }

    #[test]
    fn missing_or_malformed_profiles_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.json"), "defaultAction: x").unwrap();
        let error = read_profiles(&strings(&["seccomp=missing.json"]), dir.path()).unwrap_err();
        let missing = dir.path().join("missing.json");
        assert!(
            error.contains("\"seccomp=missing.json\"")
                && error.contains(&format!(
                    "cannot read the seccomp profile {}",
                    missing.display()
                )),
            "{error}"
        );
        let error = read_profiles(&strings(&["seccomp:bad.json"]), dir.path()).unwrap_err();
        assert!(error.contains("bad.json is not JSON"), "{error}");

        let mut project = crate::orchestrator::test_project::load(
            "services:\n  a: {image: x, security_opt: ['seccomp:missing.json']}\n  b: {image: x, security_opt: [no-new-privileges]}\n",
        )
        .project;
        let error = read_project_profiles(&mut project, dir.path()).unwrap_err();
        assert!(error.starts_with("service a: security_opt"), "{error}");
        assert_eq!(project.services["b"].security_opt, ["no-new-privileges"]);
    }
}
