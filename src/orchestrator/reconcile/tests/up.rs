use super::*;
use crate::orchestrator::plan::{Action, Target};

/// A web front end on two networks, a database it waits to be healthy, a
/// cache it only needs started.
const STACK: &str = "
services:
  db:
    image: postgres:16
    volumes: [data:/var/lib/postgresql/data]
    healthcheck:
      test: [CMD, pg_isready]
    networks: [back]
  cache:
    image: redis:7
    networks: [back]
  web:
    image: nginx:1.27
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
    networks: [back, default]
    volumes: [/var/cache/nginx]
volumes:
  data: {}
networks:
  back: {}
";

#[test]
fn fresh_up_creates_everything_in_dependency_order() {
    let world = World::new(STACK);
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 network:back, CreateNetwork, not found
        [] -> #2 network:default, CreateNetwork, not found
        [] -> #3 volume:data, CreateVolume, not found
        [1] -> #4 service:cache:1, CreateContainer, no existing container
        [4] -> #5 service:cache:1, StartContainer, no existing container
        [1,3] -> #6 service:db:1, CreateContainer, no existing container
        [6] -> #7 service:db:1, StartContainer, no existing container
        [1,2] -> #8 service:web:1, CreateContainer, no existing container
        [7] -> #9 service:db, Wait(service_healthy), web depends on db
        [5,8,9] -> #10 service:web:1, StartContainer, no existing container
        ",
    );
}

#[test]
fn created_containers_carry_compose_names_and_labels() {
    let world = World::new(STACK);
    let options = UpOptions {
        labels: ProjectLabels {
            working_dir: "/srv/app".into(),
            config_files: vec!["/srv/app/compose.yaml".into()],
            environment_files: vec![],
        },
        ..UpOptions::default()
    };
    let plan = world.up(&options);
    let create = plan
        .ops()
        .iter()
        .find_map(|op| match &op.action {
            Action::CreateContainer(c) if c.service == "web" => Some(c),
            _ => None,
        })
        .expect("web is created");
    assert_eq!((create.name.as_str(), create.number), ("app-web-1", 1));
    assert_eq!(create.image, "nginx:1.27");
    let label = |key: &str| create.labels.get(key).map(String::as_str);
    assert_eq!(label(labels::PROJECT), Some("app"));
    assert_eq!(label(labels::SERVICE), Some("web"));
    assert_eq!(label(labels::CONTAINER_NUMBER), Some("1"));
    assert_eq!(label(labels::ONEOFF), Some("False"));
    assert_eq!(label(labels::IMAGE), Some("sha256:nginx:1.27"));
    assert_eq!(label(labels::WORKING_DIR), Some("/srv/app"));
    assert_eq!(label(labels::CONFIG_FILES), Some("/srv/app/compose.yaml"));
    assert_eq!(
        label(labels::DEPENDS_ON),
        Some("cache:service_started:false,db:service_healthy:false")
    );
    let hash = stack_compose::hash::service_hash(&world.loaded.project.services["web"]).unwrap();
    assert_eq!(label(labels::CONFIG_HASH), Some(hash.as_str()));

    let network = plan
        .ops()
        .iter()
        .find_map(|op| match &op.action {
            Action::CreateNetwork { name, labels } => Some((name, labels)),
            _ => None,
        })
        .expect("a network is created");
    assert_eq!(network.0, "app_back");
    assert_eq!(network.1[labels::NETWORK], "back");
    assert_eq!(network.1[labels::PROJECT], "app");
}

#[test]
fn up_to_date_project_needs_nothing() {
    let world = World::new(STACK).up_to_date();
    assert_plan(&world.up(&UpOptions::default()), "");
}

#[test]
fn one_changed_service_is_recreated_alone() {
    let mut world = World::new(STACK).up_to_date();
    world
        .edit("app-web-1")
        .labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:web:1, StopContainer, config changed
        [1] -> #2 service:web:1, RemoveContainer, config changed
        [2] -> #3 service:web:1, CreateContainer, config changed
        [] -> #4 service:db, Wait(service_healthy), web depends on db
        [3,4] -> #5 service:web:1, StartContainer, config changed
        ",
    );
}

#[test]
fn a_new_image_recreates_the_container() {
    let mut world = World::new(STACK).up_to_date();
    world.edit("app-cache-1").image_id = "sha256:older".into();
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:cache:1, StopContainer, image changed
        [1] -> #2 service:cache:1, RemoveContainer, image changed
        [2] -> #3 service:cache:1, CreateContainer, image changed
        [3] -> #4 service:cache:1, StartContainer, image changed
        ",
    );
}

#[test]
fn force_recreate_replaces_every_container() {
    let world = World::new(STACK).up_to_date();
    let options = UpOptions {
        recreate: Recreate::Force,
        ..UpOptions::default()
    };
    assert_plan(
        &world.up(&options),
        "
        [] -> #1 service:cache:1, StopContainer, --force-recreate
        [1] -> #2 service:cache:1, RemoveContainer, --force-recreate
        [2] -> #3 service:cache:1, CreateContainer, --force-recreate
        [3] -> #4 service:cache:1, StartContainer, --force-recreate
        [] -> #5 service:db:1, StopContainer, --force-recreate
        [5] -> #6 service:db:1, RemoveContainer, --force-recreate
        [6] -> #7 service:db:1, CreateContainer, --force-recreate
        [7] -> #8 service:db:1, StartContainer, --force-recreate
        [] -> #9 service:web:1, StopContainer, --force-recreate
        [9] -> #10 service:web:1, RemoveContainer, --force-recreate
        [10] -> #11 service:web:1, CreateContainer, --force-recreate
        [8] -> #12 service:db, Wait(service_healthy), web depends on db
        [4,11,12] -> #13 service:web:1, StartContainer, --force-recreate
        ",
    );
}

#[test]
fn no_recreate_keeps_changed_containers() {
    let mut world = World::new(STACK).up_to_date();
    world
        .edit("app-web-1")
        .labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    let options = UpOptions {
        recreate: Recreate::Never,
        ..UpOptions::default()
    };
    assert_plan(&world.up(&options), "");
}

#[test]
fn named_services_follow_the_policy_and_dependencies_theirs() {
    let world = World::new(STACK).up_to_date();
    let options = UpOptions {
        services: vec!["web".into()],
        recreate: Recreate::Force,
        ..UpOptions::default()
    };
    assert_plan(
        &world.up(&options),
        "
        [] -> #1 service:web:1, StopContainer, --force-recreate
        [1] -> #2 service:web:1, RemoveContainer, --force-recreate
        [2] -> #3 service:web:1, CreateContainer, --force-recreate
        [] -> #4 service:db, Wait(service_healthy), web depends on db
        [3,4] -> #5 service:web:1, StartContainer, --force-recreate
        ",
    );
}

#[test]
fn no_deps_leaves_dependencies_alone_and_does_not_wait_for_them() {
    let world = World::new(STACK);
    let options = UpOptions {
        services: vec!["web".into()],
        no_deps: true,
        ..UpOptions::default()
    };
    assert_plan(
        &world.up(&options),
        "
        [] -> #1 network:back, CreateNetwork, not found
        [] -> #2 network:default, CreateNetwork, not found
        [] -> #3 volume:data, CreateVolume, not found
        [1,2] -> #4 service:web:1, CreateContainer, no existing container
        [4] -> #5 service:web:1, StartContainer, no existing container
        ",
    );
}

#[test]
fn no_start_only_creates() {
    let world = World::new(STACK)
        .up_to_date()
        .with("web", 2, ContainerState::Exited);
    let mut world = world;
    world
        .edit("app-db-1")
        .labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    let options = UpOptions {
        start: false,
        ..UpOptions::default()
    };
    assert_plan(
        &world.up(&options),
        "
        [] -> #1 service:db:1, StopContainer, config changed
        [1] -> #2 service:db:1, RemoveContainer, config changed
        [2] -> #3 service:db:1, CreateContainer, config changed
        [] -> #4 service:web:2, RemoveContainer, scale down
        ",
    );
}

#[test]
fn scale_up_adds_numbers_after_the_highest() {
    let world = World::new(STACK).up_to_date();
    let options = UpOptions {
        services: vec!["cache".into()],
        scale: [("cache".to_owned(), 3)].into(),
        ..UpOptions::default()
    };
    assert_plan(
        &world.up(&options),
        "
        [] -> #1 service:cache:2, CreateContainer, scale up to 3
        [1] -> #2 service:cache:2, StartContainer, scale up to 3
        [] -> #3 service:cache:3, CreateContainer, scale up to 3
        [3] -> #4 service:cache:3, StartContainer, scale up to 3
        ",
    );
}

#[test]
fn deploy_replicas_down_removes_the_highest_numbers_first() {
    let yaml = "
services:
  worker:
    image: busybox
    deploy: {replicas: 1}
    stop_grace_period: 3s
";
    let world = World::new(yaml)
        .with_network("app_default")
        .with("worker", 1, ContainerState::Running)
        .with("worker", 2, ContainerState::Running)
        .with("worker", 3, ContainerState::Exited);
    let plan = world.up(&UpOptions::default());
    assert_plan(
        &plan,
        "
        [] -> #1 service:worker:3, RemoveContainer, scale down
        [] -> #2 service:worker:2, StopContainer, scale down
        [2] -> #3 service:worker:2, RemoveContainer, scale down
        ",
    );
    let timeout = plan.ops().iter().find_map(|op| match op.action {
        Action::StopContainer { timeout, .. } => timeout,
        _ => None,
    });
    assert_eq!(timeout, Some(std::time::Duration::from_secs(3)));
}

#[test]
fn scale_down_removes_outdated_containers_before_up_to_date_ones() {
    let yaml = "
services:
  worker:
    image: busybox
";
    let mut world = World::new(yaml)
        .with_network("app_default")
        .with("worker", 1, ContainerState::Running)
        .with("worker", 2, ContainerState::Running);
    world
        .edit("app-worker-1")
        .labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:worker:1, StopContainer, scale down
        [1] -> #2 service:worker:1, RemoveContainer, scale down
        ",
    );
}

#[test]
fn stopped_and_paused_containers_are_started_again() {
    let mut world = World::new(STACK).up_to_date();
    world.edit("app-db-1").state = ContainerState::Exited;
    world.edit("app-cache-1").state = ContainerState::Paused;
    world.edit("app-web-1").state = ContainerState::Created;
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:cache:1, UnpauseContainer, paused
        [] -> #2 service:db:1, StartContainer, not running
        [2] -> #3 service:db, Wait(service_healthy), web depends on db
        [1,3] -> #4 service:web:1, StartContainer, not running
        ",
    );
}

#[test]
fn restart_true_dependents_stop_before_and_start_after_their_dependency() {
    let yaml = "
services:
  db:
    image: postgres:16
  api:
    image: api
    depends_on:
      db: {condition: service_started, restart: true}
  web:
    image: nginx
    depends_on: [db]
";
    let mut world = World::new(yaml).up_to_date();
    world
        .edit("app-db-1")
        .labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:api:1, StopContainer, dependency db is recreated
        [1] -> #2 service:db:1, StopContainer, config changed
        [2] -> #3 service:db:1, RemoveContainer, config changed
        [3] -> #4 service:db:1, CreateContainer, config changed
        [4] -> #5 service:db:1, StartContainer, config changed
        [1,5] -> #6 service:api:1, StartContainer, restart: dependency db is recreated
        ",
    );
}

#[test]
fn sharing_a_namespace_with_a_recreated_service_recreates() {
    let yaml = "
services:
  vpn:
    image: vpn
  app:
    image: app
    network_mode: service:vpn
";
    let mut world = World::new(yaml).up_to_date();
    world
        .edit("app-vpn-1")
        .labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:app:1, StopContainer, dependency vpn is recreated
        [1] -> #2 service:vpn:1, StopContainer, config changed
        [2] -> #3 service:vpn:1, RemoveContainer, config changed
        [3] -> #4 service:vpn:1, CreateContainer, config changed
        [4] -> #5 service:vpn:1, StartContainer, config changed
        [1] -> #6 service:app:1, RemoveContainer, shares resources with recreated vpn
        [4,6] -> #7 service:app:1, CreateContainer, shares resources with recreated vpn
        [5,7] -> #8 service:app:1, StartContainer, shares resources with recreated vpn
        ",
    );
    assert_eq!(shares(&world.up(&UpOptions::default()), "app"), "vpn=#4");
}

#[test]
fn without_deps_a_namespace_is_shared_with_the_existing_container() {
    let yaml = "
services:
  vpn:
    image: vpn
  app:
    image: app
    network_mode: service:vpn
    volumes_from: [vpn]
";
    let options = UpOptions {
        services: vec!["app".into()],
        no_deps: true,
        ..UpOptions::default()
    };
    let world = World::new(yaml).with("vpn", 2, ContainerState::Running);
    assert_eq!(shares(&world.up(&options), "app"), "vpn=vpn2");

    let error = World::new(yaml)
        .try_up(&options)
        .expect_err("no vpn container");
    assert_eq!(
        error.to_string(),
        "service \"app\" shares the namespace or volumes of service \"vpn\", which has no \
         container (bring \"vpn\" up too, or give it replicas)"
    );
}

/// The `shares` of the first container of `service` the plan creates.
fn shares(plan: &Plan, service: &str) -> String {
    let create = plan
        .ops()
        .iter()
        .find_map(|op| match &op.action {
            Action::CreateContainer(c) if c.service == service => Some(c),
            _ => None,
        })
        .expect("a container is created");
    let shares: Vec<String> = create
        .shares
        .iter()
        .map(|(parent, target)| match target {
            Target::Existing { id, .. } => format!("{parent}={id}"),
            Target::Created(op) => format!("{parent}=#{op}"),
        })
        .collect();
    shares.join(",")
}

#[test]
fn optional_and_completed_conditions_are_recorded_on_the_wait() {
    let yaml = "
services:
  migrate:
    image: migrate
  metrics:
    image: metrics
    healthcheck: {test: [CMD, 'true']}
  app:
    image: app
    depends_on:
      migrate: {condition: service_completed_successfully}
      metrics: {condition: service_healthy, required: false}
";
    let world = World::new(yaml).with_network("app_default");
    let plan = world.up(&UpOptions::default());
    assert_plan(
        &plan,
        "
        [] -> #1 service:metrics:1, CreateContainer, no existing container
        [1] -> #2 service:metrics:1, StartContainer, no existing container
        [] -> #3 service:migrate:1, CreateContainer, no existing container
        [3] -> #4 service:migrate:1, StartContainer, no existing container
        [] -> #5 service:app:1, CreateContainer, no existing container
        [2] -> #6 service:metrics, Wait(service_healthy, optional), app depends on metrics
        [4] -> #7 service:migrate, Wait(service_completed_successfully), app depends on migrate
        [5,6,7] -> #8 service:app:1, StartContainer, no existing container
        ",
    );
}

#[test]
fn replicas_scaled_to_zero_are_not_waited_for() {
    let yaml = "
services:
  db:
    image: postgres:16
    scale: 0
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
";
    let world = World::new(yaml).with_network("app_default");
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:web:1, CreateContainer, no existing container
        [1] -> #2 service:web:1, StartContainer, no existing container
        ",
    );
}

#[test]
fn anonymous_volumes_are_carried_over_on_recreate() {
    let yaml = "
services:
  web:
    image: nginx
    volumes:
      - /var/cache/nginx
      - logs:/var/log/nginx
      - ./html:/usr/share/nginx/html
volumes:
  logs: {}
";
    let mut world = World::new(yaml).up_to_date();
    world.observed.images.get_mut("nginx").unwrap().volumes = vec!["/data".into()];
    let web = world.edit("app-web-1");
    web.labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    web.mounts = vec![
        mount(MountKind::Volume, Some("f00"), "/var/cache/nginx"),
        mount(MountKind::Volume, Some("app_logs"), "/var/log/nginx"),
        mount(MountKind::Bind, None, "/usr/share/nginx/html"),
        mount(MountKind::Volume, Some("ba5"), "/data"),
        mount(MountKind::Tmpfs, None, "/run"),
    ];
    let plan = world.up(&UpOptions::default());
    let create = plan
        .ops()
        .iter()
        .find_map(|op| match &op.action {
            Action::CreateContainer(c) => Some(c),
            _ => None,
        })
        .expect("web is recreated");
    let inherited: Vec<(&str, &str)> = create
        .inherit
        .iter()
        .map(|m| (m.volume.as_str(), m.target.as_str()))
        .collect();
    assert_eq!(inherited, [("ba5", "/data"), ("f00", "/var/cache/nginx")]);
    assert_eq!(create.labels[labels::REPLACE], "web-1");
    let removes_volumes = plan
        .ops()
        .iter()
        .any(|op| matches!(op.action, Action::RemoveContainer { volumes: true, .. }));
    assert!(!removes_volumes, "a recreate keeps the old volumes");
}

#[test]
fn orphans_are_named_in_a_warning_without_the_flag() {
    let mut world = World::new(STACK).up_to_date();
    let mut old = world.container("cache", 1, ContainerState::Running);
    old.id = "old1".into();
    old.name = "app-old-1".into();
    old.labels.insert(labels::SERVICE.into(), "old".into());
    let mut run = world.container("web", 1, ContainerState::Exited);
    run.id = "run1".into();
    run.name = "app-web-run-1a2b".into();
    run.labels.insert(labels::ONEOFF.into(), "True".into());
    let mut live_run = run.clone();
    live_run.id = "run2".into();
    live_run.name = "app-web-run-3c4d".into();
    live_run.state = ContainerState::Running;
    world.observed.containers.extend([old, run, live_run]);
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        warning: found orphan containers (app-old-1, app-web-run-1a2b) for this project; \
        if you removed or renamed their service in the compose file, run this command \
        with --remove-orphans to clean them up
        ",
    );
    let options = UpOptions {
        remove_orphans: true,
        ..UpOptions::default()
    };
    assert_plan(
        &world.up(&options),
        "
        [] -> #1 orphan:app-old-1, StopContainer, service old is not in the project
        [1] -> #2 orphan:app-old-1, RemoveContainer, service old is not in the project
        [] -> #3 orphan:app-web-run-1a2b, RemoveContainer, one-off container has ended
        ",
    );
}

#[test]
fn disabled_services_are_not_orphans() {
    let mut world = World::new(STACK).up_to_date();
    let mut debug = world.container("cache", 1, ContainerState::Running);
    debug.name = "app-debug-1".into();
    debug.labels.insert(labels::SERVICE.into(), "debug".into());
    world.observed.containers.push(debug);
    let options = UpOptions {
        disabled_services: ["debug".to_owned()].into(),
        ..UpOptions::default()
    };
    assert_plan(&world.up(&options), "");
}

#[test]
fn networks_and_volumes_of_someone_else_are_used_with_a_warning() {
    let mut world = World::new(STACK).up_to_date();
    world.observed.networks[0].labels.clear();
    world.observed.volumes[0].labels.clear();
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        warning: network app_back exists but was not created for project \"app\"; \
        set `external: true` to use an existing network
        warning: volume app_data exists but was not created for project \"app\"; \
        set `external: true` to use an existing volume
        ",
    );
}

#[test]
fn every_reason_up_cannot_succeed_is_reported_at_once() {
    let yaml = "
services:
  web:
    image: nginx
    container_name: front
    networks: [shared, default]
    volumes: [certs:/certs]
  db:
    image: postgres:16
  worker:
    build: .
networks:
  shared: {external: true}
  present: {external: true, name: lan}
volumes:
  certs: {external: true, name: tls-certs}
";
    let mut world = World::new(yaml);
    world.observed.images.remove("postgres:16");
    world.observed.images.remove("app-worker");
    world.observed.networks.push(ObservedNetwork {
        id: "n1".into(),
        name: "lan".into(),
        labels: BTreeMap::new(),
    });
    let options = UpOptions {
        scale: [("web".to_owned(), 2), ("nope".to_owned(), 1)].into(),
        ..UpOptions::default()
    };
    let error = world.try_up(&options).expect_err("up must fail");
    assert_eq!(
        error.to_string(),
        text(
            "
            no such service: nope (check the name against `stack config --services`)
            network \"shared\" is external but no network named \"shared\" exists \
            (create it with `stack network create shared`, or remove `external: true`)
            volume \"certs\" is external but no volume named \"tls-certs\" exists \
            (create it with `stack volume create tls-certs`, or remove `external: true`)
            service \"db\" uses image \"postgres:16\", which is not in the engine: \
            stack cannot pull images yet; load it with `stack image load` (e.g. from \
            `docker save postgres:16`) or import a root filesystem with `stack image import`
            service \"worker\" builds image \"app-worker\", which is not in the engine: \
            stack cannot build images yet; build it with another tool and load it with \
            `stack image load`
            service \"web\" is scaled to 2 containers but sets container_name \"front\", \
            which only one container can have (remove container_name to run several)
            "
        )
        .trim_end()
    );
}

#[test]
fn external_networks_are_never_created() {
    let yaml = "
services:
  web:
    image: nginx
    networks: [shared]
networks:
  shared: {external: true}
";
    let world = World::new(yaml).with_network("shared");
    let plan = world.up(&UpOptions::default());
    assert_plan(
        &plan,
        "
        [] -> #1 service:web:1, CreateContainer, no existing container
        [1] -> #2 service:web:1, StartContainer, no existing container
        ",
    );
    assert!(matches!(
        &plan.ops()[1].action,
        Action::StartContainer(Target::Created(id)) if id.0 == 1
    ));
}

#[test]
fn a_container_cut_off_from_its_network_is_recreated() {
    let mut world = World::new(STACK).up_to_date();
    world
        .edit("app-web-1")
        .networks
        .retain(|n| n != "app_default");
    // A stopped container is started as it is; it is connected on start.
    world.edit("app-cache-1").networks.clear();
    world.edit("app-cache-1").state = ContainerState::Exited;
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 service:cache:1, StartContainer, not running
        [] -> #2 service:web:1, StopContainer, not connected to network app_default
        [2] -> #3 service:web:1, RemoveContainer, not connected to network app_default
        [3] -> #4 service:web:1, CreateContainer, not connected to network app_default
        [] -> #5 service:db, Wait(service_healthy), web depends on db
        [1,4,5] -> #6 service:web:1, StartContainer, not connected to network app_default
        ",
    );
}

#[test]
fn a_renamed_volume_recreates_the_containers_mounting_it() {
    let mut world = World::new(STACK).up_to_date();
    world.observed.volumes[0].name = "old_data".into();
    world.edit("app-db-1").mounts[0].name = Some("old_data".into());
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        [] -> #1 volume:data, CreateVolume, not found
        [] -> #2 service:db:1, StopContainer, volume app_data is not mounted
        [2] -> #3 service:db:1, RemoveContainer, volume app_data is not mounted
        [1,3] -> #4 service:db:1, CreateContainer, volume app_data is not mounted
        [4] -> #5 service:db:1, StartContainer, volume app_data is not mounted
        ",
    );
}

#[test]
fn services_outside_the_selection_are_left_alone() {
    let mut world = World::new(STACK).up_to_date();
    world
        .edit("app-web-1")
        .labels
        .insert(labels::CONFIG_HASH.into(), "stale".into());
    let options = UpOptions {
        services: vec!["db".into()],
        recreate_dependencies: Recreate::Force,
        ..UpOptions::default()
    };
    // Only db is in scope; `--always-recreate-deps` concerns what the named
    // services depend on, and db depends on nothing.
    assert_plan(&world.up(&options), "");
    let options = UpOptions {
        services: vec!["web".into()],
        recreate: Recreate::Never,
        recreate_dependencies: Recreate::Force,
        ..UpOptions::default()
    };
    assert_plan(
        &world.up(&options),
        "
        [] -> #1 service:cache:1, StopContainer, --force-recreate
        [1] -> #2 service:cache:1, RemoveContainer, --force-recreate
        [2] -> #3 service:cache:1, CreateContainer, --force-recreate
        [3] -> #4 service:cache:1, StartContainer, --force-recreate
        [] -> #5 service:db:1, StopContainer, --force-recreate
        [5] -> #6 service:db:1, RemoveContainer, --force-recreate
        [6] -> #7 service:db:1, CreateContainer, --force-recreate
        [7] -> #8 service:db:1, StartContainer, --force-recreate
        ",
    );
}

#[test]
fn networks_and_volumes_created_from_another_configuration_are_warned_about() {
    let mut world = World::new(STACK).up_to_date();
    for labels in [
        &mut world.observed.networks[0].labels,
        &mut world.observed.volumes[0].labels,
    ] {
        labels.insert(labels::CONFIG_HASH.into(), "before".into());
    }
    assert_plan(
        &world.up(&UpOptions::default()),
        "
        warning: network app_back was created from another configuration than the compose \
        file's, which does not apply until it is created again; run `stack down` and \
        `stack up` to apply it
        warning: volume app_data was created from another configuration than the compose \
        file's, which does not apply until it is created again; remove the volume (its data \
        is lost) to apply it
        ",
    );
}
