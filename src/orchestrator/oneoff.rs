//! The one-off container of `run`: a service's container with the command
//! line's overrides, named `<project>-<service>-run-<id>` and labelled
//! `oneoff=True`, so `up` and `ps` leave it alone and `down` removes it.

use super::container_config::create_body;
use super::labels::{self, ContainerIdentity, ProjectLabels};
use super::plan::CreateContainer;
use bollard::models::ContainerCreateBody;
use stack_compose::hash::service_hash;
use stack_compose::model::{Mount, Port, Project, Service};
use std::collections::BTreeMap;

/// What `run` changes in the service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// The command (none keeps the service's).
    pub command: Vec<String>,
    /// `--entrypoint`.
    pub entrypoint: Option<String>,
    /// `-e KEY=VALUE` (or `KEY`, taken from `run`'s environment by the caller).
    pub environment: Vec<(String, String)>,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-l KEY=VALUE`.
    pub labels: Vec<(String, String)>,
    /// `--service-ports`: publish the service's ports (they are not by default).
    pub service_ports: bool,
    /// `-p`: the ports to publish instead (without `--service-ports`).
    pub publish: Vec<Port>,
    /// `-v`: mounts added to the service's.
    pub volumes: Vec<Mount>,
    /// `--name`.
    pub name: Option<String>,
    /// A unique suffix for the default name (`<project>-<service>-run-<suffix>`).
    pub suffix: String,
    /// Its stdin is open and attached (`-i`, the default in the foreground).
    pub stdin: bool,
    /// It runs on a pseudo-TTY (`-t`, or a terminal here); the service's
    /// own `tty:` does not count, as in Compose.
    pub tty: bool,
    /// `--rm`: the engine removes it once it exits, also after the user
    /// detached from it.
    pub auto_remove: bool,
}

/// The one-off container of `service` (whose image has id `image_id`):
/// its name and create body. `shares` maps the services it shares
/// namespaces or volumes with to their containers' ids.
pub fn oneoff_body(
    project: &Project,
    service: &str,
    image_id: &str,
    overrides: &Overrides,
    origin: &ProjectLabels,
    shares: &BTreeMap<String, String>,
) -> Result<(String, ContainerCreateBody), serde_json::Error> {
    let mut spec: Service = project.services.get(service).cloned().unwrap_or_default();
    if !overrides.command.is_empty() {
        spec.command = Some(overrides.command.clone());
    }
    if let Some(entrypoint) = &overrides.entrypoint {
        spec.entrypoint = Some(vec![entrypoint.clone()]);
    }
    for (key, value) in &overrides.environment {
        spec.environment.insert(key.clone(), Some(value.clone()));
    }
    if overrides.user.is_some() {
        spec.user = overrides.user.clone();
    }
    if overrides.workdir.is_some() {
        spec.working_dir = overrides.workdir.clone();
    }
    for (key, value) in &overrides.labels {
        spec.labels.insert(key.clone(), value.clone());
    }
    if !overrides.service_ports {
        spec.ports = overrides.publish.clone();
    }
    spec.volumes.extend(overrides.volumes.iter().cloned());
    // A one-off container never takes the service's fixed name, and is
    // never restarted (which also lets the engine remove it with `--rm`).
    spec.container_name = None;
    spec.restart = None;
    if let Some(deploy) = &mut spec.deploy {
        deploy.restart_policy = None;
    }
    spec.tty = overrides.tty;
    spec.stdin_open = overrides.stdin;
    let hash = service_hash(&spec)?;
    let identity = ContainerIdentity {
        project: &project.name,
        service,
        number: 1,
        config_hash: &hash,
        image_id,
        replaces: None,
    };
    let mut all_labels = labels::container_labels(&identity, &spec, origin);
    all_labels.insert(labels::ONEOFF.to_owned(), "True".to_owned());
    let name = overrides
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{service}-run-{}", project.name, overrides.suffix));
    let create = CreateContainer {
        service: service.to_owned(),
        number: 1,
        name: name.clone(),
        image: labels::image_reference(&project.name, service, &spec),
        labels: all_labels,
        inherit: Vec::new(),
        shares: BTreeMap::new(),
    };
    let mut body = create_body(project, &spec, &create, shares);
    body.attach_stdin = Some(overrides.stdin);
    body.stdin_once = Some(overrides.stdin);
    body.attach_stdout = Some(true);
    body.attach_stderr = Some(true);
    if let Some(host) = &mut body.host_config {
        host.auto_remove = Some(overrides.auto_remove);
    }
    Ok((name, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-off of service `web` of `project` with `overrides`, from
    /// image `sha256:1`, without labels or resolved names.
    fn web_body(project: &Project, overrides: &Overrides) -> (String, ContainerCreateBody) {
        oneoff_body(
            project,
            "web",
            "sha256:1",
            overrides,
            &ProjectLabels::default(),
            &BTreeMap::new(),
        )
        .expect("body")
    }

    #[test]
    fn a_oneoff_container_is_labelled_and_named_as_compose_does() {
        let project = crate::orchestrator::test_project::load(
            "services:\n  web:\n    image: busybox\n    container_name: fixed\n    \
             command: [sleep, '9']\n    ports: ['8080:80']\n    restart: always\n    tty: true\n",
        )
        .project;
        let overrides = Overrides {
            command: vec!["echo".into(), "hi".into()],
            environment: vec![("X".into(), "1".into())],
            suffix: "abc".into(),
            ..Overrides::default()
        };
        let (name, body) = web_body(&project, &overrides);
        assert_eq!(name, "app-web-run-abc");
        assert_eq!(body.cmd, Some(vec!["echo".to_owned(), "hi".to_owned()]));
        assert_eq!(body.env, Some(vec!["X=1".to_owned()]));
        let labels = body.labels.expect("labels");
        assert_eq!(labels[labels::ONEOFF], "True");
        assert_eq!(labels[labels::SERVICE], "web");
        assert!(body.host_config.and_then(|h| h.port_bindings).is_none());
        assert_eq!((body.tty, body.open_stdin), (Some(false), Some(false)));

        let flags = Overrides {
            publish: stack_compose::flags::ports("127.0.0.1:9090:90").expect("port"),
            volumes: vec![stack_compose::flags::mount(
                "/srv:/srv:ro",
                std::path::Path::new("/"),
                None,
            )
            .expect("mount")],
            suffix: "def".into(),
            ..Overrides::default()
        };
        let (_, body) = web_body(&project, &flags);
        let host = body.host_config.expect("host config");
        let bindings = host.port_bindings.expect("bindings");
        assert_eq!(bindings.keys().collect::<Vec<_>>(), ["90/tcp"]);
        let binds = format!("{:?}{:?}", host.binds, host.mounts);
        assert!(binds.contains("/srv"), "{binds}");

        let service_ports = Overrides {
            service_ports: true,
            suffix: "ghi".into(),
            ..Overrides::default()
        };
        let (_, body) = web_body(&project, &service_ports);
        let bindings = body
            .host_config
            .and_then(|h| h.port_bindings)
            .expect("bindings");
        assert_eq!(bindings.keys().collect::<Vec<_>>(), ["80/tcp"]);
    }

    #[test]
    fn an_interactive_oneoff_has_a_tty_open_stdin_and_no_restart_policy() {
        let project = crate::orchestrator::test_project::load(
            "services:\n  web:\n    image: busybox\n    restart: always\n",
        )
        .project;
        let overrides = Overrides {
            stdin: true,
            tty: true,
            auto_remove: true,
            suffix: "abc".into(),
            ..Overrides::default()
        };
        let (_, body) = web_body(&project, &overrides);
        assert_eq!(body.tty, Some(true));
        assert_eq!(body.open_stdin, Some(true));
        assert_eq!(body.stdin_once, Some(true));
        assert_eq!(body.attach_stdin, Some(true));
        let host = body.host_config.expect("host config");
        assert_eq!(host.auto_remove, Some(true));
        assert!(host.restart_policy.is_none(), "{:?}", host.restart_policy);
    }
}
