use super::*;
use crate::model::{
    Build, DependsOn, Deploy, FileObject, Mount, Network, Port, PortMode, Protocol, Volume,
};
use std::sync::Arc;

fn project(services: Vec<(&str, Service)>) -> Project {
    Project {
        name: "demo".into(),
        services: services
            .into_iter()
            .map(|(n, s)| (n.to_owned(), s))
            .collect(),
        ..Project::default()
    }
}

fn image(name: &str) -> Service {
    Service {
        image: Some(name.into()),
        ..Service::default()
    }
}

fn depending_on(deps: &[&str]) -> Service {
    let mut service = image("app");
    for d in deps {
        service.depends_on.insert((*d).into(), DependsOn::started());
    }
    service
}

fn errors(project: &Project) -> Vec<String> {
    validate(project, &Spans::default())
        .expect_err("project should be invalid")
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn port(host_ip: Option<&str>, published: &str, protocol: Protocol) -> Port {
    Port {
        name: None,
        mode: PortMode::Ingress,
        host_ip: host_ip.map(Into::into),
        target: 80,
        published: Some(published.into()),
        protocol,
        app_protocol: None,
        extensions: Default::default(),
    }
}

fn publishing(ports: Vec<Port>) -> Service {
    Service {
        ports,
        ..image("web")
    }
}

fn mount(kind: VolumeType, source: Option<&str>, target: &str) -> Mount {
    Mount {
        kind,
        source: source.map(Into::into),
        target: target.into(),
        read_only: false,
        consistency: None,
        bind: None,
        volume: None,
        tmpfs: None,
        image: None,
        extensions: Default::default(),
    }
}

fn file_ref(source: &str) -> crate::model::FileRef {
    crate::model::FileRef {
        source: source.into(),
        ..Default::default()
    }
}

#[test]
fn a_consistent_project_passes() {
    let mut p = project(vec![
        ("web", depending_on(&["db"])),
        ("db", image("postgres")),
    ]);
    p.networks.insert("default".into(), Network::default());
    p.volumes.insert("data".into(), Volume::default());
    let db = &mut p.services["db"];
    db.networks.insert("default".into(), None);
    db.volumes
        .push(mount(VolumeType::Volume, Some("data"), "/data"));
    db.volumes.push(mount(VolumeType::Volume, None, "/cache"));
    db.volumes
        .push(mount(VolumeType::Bind, Some("/srv/db"), "/srv"));
    db.tmpfs.push("/run:size=64m".into());
    db.links.push("web:frontend".into());
    db.volumes_from.push("container:legacy".into());
    assert_eq!(validate(&p, &Spans::default()), Ok(Vec::new()));
}

#[test]
fn errors_are_located_from_the_tree() {
    let file: Arc<str> = Arc::from("compose.yaml");
    let tree =
        crate::yaml::parse("services:\n  web:\n    depends_on:\n      - db\n", &file).unwrap();
    let spans = Spans::from_tree(&tree[0]);
    let p = project(vec![("web", depending_on(&["db"]))]);
    let errors = validate(&p, &spans).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "compose.yaml:4:9: services.web.depends_on.db: service \"web\" depends on undefined \
         service \"db\" (define service \"db\", or set `required: false` on this dependency)"
    );
}

#[test]
fn undefined_dependency_suggests_a_close_name() {
    let p = project(vec![
        ("web", depending_on(&["postgress"])),
        ("postgres", image("postgres")),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.web.depends_on.postgress: service \"web\" depends on undefined service \
          \"postgress\" (did you mean \"postgres\"?)"
        ]
    );
}

#[test]
fn optional_dependency_on_undefined_service_is_a_warning() {
    let mut web = image("web");
    web.depends_on.insert(
        "db".into(),
        DependsOn {
            required: false,
            ..DependsOn::started()
        },
    );
    let warnings = validate(&project(vec![("web", web)]), &Spans::default()).unwrap();
    assert_eq!(
        warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "services.web.depends_on.db: service \"web\" depends on undefined service \"db\" \
          (required: false), ignored"
        ]
    );
}

#[test]
fn dependency_cycle_is_located_at_its_first_edge() {
    let p = project(vec![
        ("c", depending_on(&["a"])),
        ("b", depending_on(&["c"])),
        ("a", depending_on(&["b"])),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.a.depends_on.b: dependency cycle detected: a -> b -> c -> a \
          (remove one of these dependencies to break the cycle)"
        ]
    );
}

#[test]
fn cycle_through_an_inferred_dependency_is_located_at_the_reference() {
    // a links b (the conversion adds depends_on.b), b depends on a.
    let mut a = image("app");
    a.links.push("b".into());
    a.depends_on.insert("b".into(), DependsOn::started());
    let p = project(vec![("a", a), ("b", depending_on(&["a"]))]);
    assert_eq!(
        errors(&p),
        [
            "services.a.links[0]: dependency cycle detected: a -> b -> a \
          (remove one of these dependencies to break the cycle)"
        ]
    );
}

#[test]
fn self_dependency_is_located_at_itself() {
    let p = project(vec![("a", depending_on(&["a"]))]);
    assert_eq!(
        errors(&p),
        [
            "services.a.depends_on.a: dependency cycle detected: a -> a \
          (remove one of these dependencies to break the cycle)"
        ]
    );
}

#[test]
fn links_to_undefined_services() {
    let mut web = image("web");
    web.links = vec!["db:database".into(), "cache".into()];
    // The conversion's implicit dependency on the link is not reported twice.
    web.depends_on.insert("cache".into(), DependsOn::started());
    let p = project(vec![("web", web), ("db", image("postgres"))]);
    assert_eq!(
        errors(&p),
        [
            "services.web.links[1]: service \"web\" links to undefined service \"cache\" \
          (define service \"cache\", or remove the link)"
        ]
    );
}

#[test]
fn volumes_from_undefined_services() {
    let mut web = image("web");
    web.volumes_from = vec!["data:ro".into(), "container:other".into(), "db".into()];
    let p = project(vec![("web", web), ("db", image("postgres"))]);
    assert_eq!(
        errors(&p),
        [
            "services.web.volumes_from[0]: service \"web\" mounts volumes from undefined \
          service \"data\" (define service \"data\", or write container:data for a container \
          outside the project)"
        ]
    );
}

#[test]
fn namespaces_shared_with_undefined_services() {
    let mut web = image("web");
    web.network_mode = Some(NetworkMode::Service("vpn".into()));
    web.ipc = Some("service:shm".into());
    web.pid = Some("service:web".into());
    for implicit in ["vpn", "shm"] {
        web.depends_on.insert(implicit.into(), DependsOn::started());
    }
    let mut sidecar = image("sidecar");
    sidecar.network_mode = Some(NetworkMode::Container("vpn".into()));
    sidecar.ipc = Some("shareable".into());
    let p = project(vec![("web", web), ("sidecar", sidecar)]);
    assert_eq!(
        errors(&p),
        [
            "services.web.ipc: service \"web\" uses ipc service:shm, but service \"shm\" is not \
             defined (define service \"shm\", or write container:shm for a container outside \
             the project)",
            "services.web.network_mode: service \"web\" uses network_mode service:vpn, but \
             service \"vpn\" is not defined (define service \"vpn\", or write container:vpn for \
             a container outside the project)",
        ]
    );
}

#[test]
fn undeclared_networks_volumes_secrets_and_configs() {
    let mut p = project(vec![("web", image("web"))]);
    p.networks.insert("front".into(), Network::default());
    p.secrets.insert("token".into(), FileObject::default());
    let web = &mut p.services["web"];
    web.networks.insert("fronts".into(), None);
    web.networks.insert("back".into(), None);
    web.volumes
        .push(mount(VolumeType::Volume, Some("data"), "/data"));
    web.secrets.push(file_ref("token"));
    web.secrets.push(file_ref("password"));
    web.configs.push(file_ref("nginx"));
    web.build = Some(Build {
        secrets: vec![file_ref("npmrc")],
        ..Build::default()
    });
    assert_eq!(
        errors(&p),
        [
            "services.web.build.secrets[0]: service \"web\" refers to undefined secret \"npmrc\" \
             (declare secret \"npmrc\" under the top-level `secrets:` key)",
            "services.web.configs[0]: service \"web\" refers to undefined config \"nginx\" \
             (declare config \"nginx\" under the top-level `configs:` key)",
            "services.web.networks.back: service \"web\" refers to undefined network \"back\" \
             (declare network \"back\" under the top-level `networks:` key)",
            "services.web.networks.fronts: service \"web\" refers to undefined network \
             \"fronts\" (did you mean \"front\"?)",
            "services.web.secrets[1]: service \"web\" refers to undefined secret \"password\" \
             (declare secret \"password\" under the top-level `secrets:` key)",
            "services.web.volumes[0]: service \"web\" refers to undefined volume \"data\" \
             (declare volume \"data\" under the top-level `volumes:` key, or write a path such \
             as ./data for a bind mount)",
        ]
    );
}

#[test]
fn duplicate_container_names_name_the_first_owner() {
    let named = |n: &str| Service {
        container_name: Some(n.into()),
        ..image("app")
    };
    let p = project(vec![
        ("a", named("shared")),
        ("b", named("shared")),
        ("c", named("own")),
        ("d", named("shared")),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.b.container_name: container name \"shared\" is already used by service \
             \"a\" (container names must be unique on the host: rename one of them)",
            "services.d.container_name: container name \"shared\" is already used by service \
             \"a\" (container names must be unique on the host: rename one of them)",
        ]
    );
}

#[test]
fn container_name_with_more_than_one_container() {
    let scaled = Service {
        container_name: Some("one".into()),
        scale: Some(3),
        ..image("app")
    };
    let replicated = Service {
        container_name: Some("two".into()),
        deploy: Some(Deploy {
            replicas: Some(2),
            ..Deploy::default()
        }),
        ..image("app")
    };
    let single = Service {
        container_name: Some("three".into()),
        scale: Some(1),
        ..image("app")
    };
    let p = project(vec![("a", scaled), ("b", replicated), ("c", single)]);
    assert_eq!(
        errors(&p),
        [
            "services.a.container_name: container_name \"one\" cannot be used with scale 3 \
             (a container name must be unique: remove container_name, or set scale to 1)",
            "services.b.container_name: container_name \"two\" cannot be used with \
             deploy.replicas 2 (a container name must be unique: remove container_name, or set \
             deploy.replicas to 1)",
        ]
    );
}

#[test]
fn a_service_needs_an_image_or_a_build() {
    let mut provided = Service::default();
    provided
        .unsupported
        .insert("provider".into(), serde_json::json!({"type": "model"}));
    let built = Service {
        build: Some(Build::default()),
        ..Service::default()
    };
    let p = project(vec![
        ("empty", Service::default()),
        ("provided", provided),
        ("built", built),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.empty: service \"empty\" has neither an image nor a build context \
          (set `image:` to run an existing image, or `build:` to build one)"
        ]
    );
}

#[test]
fn scale_and_replicas_must_agree() {
    let replicated = |scale, replicas| Service {
        scale: Some(scale),
        deploy: Some(Deploy {
            replicas: Some(replicas),
            ..Deploy::default()
        }),
        ..image("app")
    };
    let p = project(vec![
        ("same", replicated(2, 2)),
        ("apart", replicated(1, 4)),
    ]);
    assert_eq!(
        errors(&p),
        ["services.apart.scale: scale 1 and deploy.replicas 4 disagree (set only one of them)"]
    );
}

#[test]
fn one_mount_per_container_path() {
    let mut web = image("web");
    web.tmpfs = vec!["/run".into(), "/tmp:size=1m".into()];
    web.volumes = vec![
        mount(VolumeType::Bind, Some("/srv/run"), "/run/"),
        mount(VolumeType::Volume, None, "/cache"),
        mount(VolumeType::Bind, Some("/srv/tmp"), "/tmp"),
        mount(VolumeType::Volume, None, "/cache"),
    ];
    assert_eq!(
        errors(&project(vec![("web", web)])),
        [
            "services.web.volumes[0]: target /run is already mounted by services.web.tmpfs[0] \
             (mount one thing per container path)",
            "services.web.volumes[2]: target /tmp is already mounted by services.web.tmpfs[1] \
             (mount one thing per container path)",
            "services.web.volumes[3]: target /cache is already mounted by \
             services.web.volumes[1] (mount one thing per container path)",
        ]
    );
}

#[test]
fn build_contexts_naming_services() {
    let building = |contexts: &[(&str, &str)]| Service {
        build: Some(Build {
            additional_contexts: contexts
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Build::default()
        }),
        ..Service::default()
    };
    let p = project(vec![
        (
            "app",
            building(&[
                ("base", "service:base"),
                ("db", "service:db"),
                ("cache", "service:bsae"),
                ("docs", "./docs"),
            ]),
        ),
        ("base", building(&[])),
        ("db", image("postgres")),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.app.build.additional_contexts.cache: service \"app\" uses undefined \
             service \"bsae\" as build context \"cache\" (did you mean \"base\"?)",
            "services.app.build.additional_contexts.db: service \"app\" uses service \"db\" as \
             build context \"db\", but \"db\" is not built (add a `build:` section to \"db\", \
             or name its image with docker-image://)",
        ]
    );
}

#[test]
fn network_mode_excludes_networks() {
    let mut p = project(vec![("web", image("web"))]);
    p.networks.insert("default".into(), Network::default());
    let web = &mut p.services["web"];
    web.network_mode = Some(NetworkMode::Host);
    web.networks.insert("default".into(), None);
    assert_eq!(
        errors(&p),
        [
            "services.web.networks: network_mode and networks cannot be used together \
          (network_mode \"host\" already decides the service's network: remove networks)"
        ]
    );
}

#[test]
fn host_port_published_twice() {
    let p = project(vec![
        ("a", publishing(vec![port(None, "8080", Protocol::Tcp)])),
        (
            "b",
            publishing(vec![
                port(None, "8080", Protocol::Udp),
                port(Some("0.0.0.0"), "8080", Protocol::Tcp),
            ]),
        ),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.b.ports[1]: host port 8080/tcp is already published by service \"a\" \
          (services.a.ports[0]) (two containers cannot listen on the same host port: publish \
          another one, or leave `published` out to let the engine choose)"
        ]
    );
}

#[test]
fn host_port_on_distinct_addresses_does_not_clash() {
    let p = project(vec![
        (
            "a",
            publishing(vec![port(Some("127.0.0.1"), "80", Protocol::Tcp)]),
        ),
        (
            "b",
            publishing(vec![port(Some("127.0.0.2"), "80", Protocol::Tcp)]),
        ),
        (
            "c",
            publishing(vec![port(Some("::1"), "80", Protocol::Tcp)]),
        ),
    ]);
    assert_eq!(validate(&p, &Spans::default()), Ok(Vec::new()));
}

#[test]
fn host_port_on_every_address_clashes_with_a_specific_one() {
    let p = project(vec![
        (
            "a",
            publishing(vec![port(Some("::1"), "80", Protocol::Tcp)]),
        ),
        ("b", publishing(vec![port(Some("::"), "80", Protocol::Tcp)])),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.b.ports[0]: host port 80/tcp overlaps [::1]:80/tcp published by service \
          \"a\" (services.a.ports[0]) (two containers cannot listen on the same host port: \
          publish another one, or leave `published` out to let the engine choose)"
        ]
    );
}

#[test]
fn overlapping_port_ranges_clash() {
    let p = project(vec![
        (
            "a",
            publishing(vec![port(None, "8000-8010", Protocol::Tcp)]),
        ),
        (
            "b",
            publishing(vec![
                port(Some("10.0.0.1"), "8010-8020", Protocol::Tcp),
                port(None, "8011-8020", Protocol::Tcp),
                port(None, "9000", Protocol::Sctp),
                port(None, "not-a-port", Protocol::Tcp),
            ]),
        ),
    ]);
    assert_eq!(
        errors(&p),
        [
            "services.b.ports[0]: host port 10.0.0.1:8010-8020/tcp overlaps 8000-8010/tcp \
             published by service \"a\" (services.a.ports[0]) (two containers cannot listen on \
             the same host port: publish another one, or leave `published` out to let the \
             engine choose)",
            "services.b.ports[1]: host port 8011-8020/tcp overlaps 10.0.0.1:8010-8020/tcp \
             published by service \"b\" (services.b.ports[0]) (two containers cannot listen on \
             the same host port: publish another one, or leave `published` out to let the \
             engine choose)",
        ]
    );
}

#[test]
fn every_error_is_reported_in_key_path_order() {
    let mut web = depending_on(&["ghost"]);
    web.links.push("phantom".into());
    web.container_name = Some("x".into());
    let other = Service {
        container_name: Some("x".into()),
        ..image("app")
    };
    let p = project(vec![("web", web), ("other", other)]);
    let paths: Vec<String> = validate(&p, &Spans::default())
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(
        paths,
        [
            "services.other.container_name",
            "services.web.depends_on.ghost",
            "services.web.links[0]",
        ]
    );
}

/// The tree → model → profiles → validation path the loader runs, on a
/// file with one of each problem, to check positions end to end.
#[test]
fn converted_projects_are_located_in_their_file() {
    let file: Arc<str> = Arc::from("compose.yaml");
    let text = "\
services:
  web:
    image: nginx
    depends_on: [api, ghost]
    links: [phantom]
    ports: ['8080:80', '9000-9001:9000-9001']
    networks: [front]
  api:
    image: api
    ports:
      - 8080:81
    volumes:
      - data:/data
  admin:
    image: admin
    ports: ['9001:9001']
    profiles: [debug]
";
    let tree = crate::yaml::parse(text, &file).unwrap();
    let env = crate::env::Environment::new();
    let ctx = crate::convert::ConvertContext {
        project_name: "demo".into(),
        project_dir: "/srv/demo".into(),
        env: &env,
    };
    let converted = crate::convert::project(&tree[0], &ctx);
    assert_eq!(converted.errors, []);
    let spans = Spans::from_tree(&tree[0]);
    let profiles = crate::profiles::Profiles::new(["debug"]);
    let selection =
        crate::profiles::select(converted.project, &profiles, &[] as &[&str], &spans).unwrap();
    let errors: Vec<String> = validate(&selection.project, &spans)
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "compose.yaml:4:23: services.web.depends_on.ghost: service \"web\" depends on \
             undefined service \"ghost\" (define service \"ghost\", or set `required: false` on \
             this dependency)",
            "compose.yaml:5:13: services.web.links[0]: service \"web\" links to undefined \
             service \"phantom\" (define service \"phantom\", or remove the link)",
            "compose.yaml:7:16: services.web.networks.front: service \"web\" refers to undefined \
             network \"front\" (declare network \"front\" under the top-level `networks:` key)",
            "compose.yaml:11:9: services.api.ports[0]: host port 8080/tcp is already published \
             by service \"web\" (compose.yaml:6:13) (two containers cannot listen on the same \
             host port: publish another one, or leave `published` out to let the engine choose)",
            "compose.yaml:13:9: services.api.volumes[0]: service \"api\" refers to undefined \
             volume \"data\" (declare volume \"data\" under the top-level `volumes:` key, or \
             write a path such as ./data for a bind mount)",
            // The range's second port has no key path of its own in the
            // file: it is located at `ports`.
            "compose.yaml:16:13: services.admin.ports[0]: host port 9001/tcp is already \
             published by service \"web\" (compose.yaml:6:5) (two containers cannot listen on \
             the same host port: publish another one, or leave `published` out to let the \
             engine choose)",
        ]
    );
}
