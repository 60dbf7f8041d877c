use super::*;

const STACK: &str = "
services:
  db:
    image: postgres:16
    volumes: [data:/var/lib/postgresql/data]
    stop_grace_period: 30s
  cache:
    image: redis:7
  web:
    image: nginx
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
    networks: [back, default]
  proxy:
    image: traefik
    networks: [edge]
volumes:
  data: {}
  certs: {external: true}
networks:
  back: {}
  edge: {external: true}
";

fn world() -> World {
    let mut world = World::new(STACK).up_to_date();
    world = world.with_network("edge").with_volume("certs");
    world
}

#[test]
fn down_stops_dependents_first_then_removes_networks() {
    assert_plan(
        &world().down(&DownOptions::default()),
        "
        [] -> #1 service:web:1, StopContainer, down
        [1] -> #2 service:web:1, RemoveContainer, down
        [1] -> #3 service:cache:1, StopContainer, down
        [3] -> #4 service:cache:1, RemoveContainer, down
        [1] -> #5 service:db:1, StopContainer, down
        [5] -> #6 service:db:1, RemoveContainer, down
        [] -> #7 service:proxy:1, StopContainer, down
        [7] -> #8 service:proxy:1, RemoveContainer, down
        [2,4,6,8] -> #9 network:back, RemoveNetwork, down
        [2,4,6,8] -> #10 network:default, RemoveNetwork, down
        ",
    );
}

#[test]
fn down_with_volumes_removes_named_and_anonymous_volumes() {
    let options = DownOptions {
        remove_volumes: true,
        timeout: Some(std::time::Duration::from_secs(0)),
        ..DownOptions::default()
    };
    let plan = world().down(&options);
    assert_plan(
        &plan,
        "
        [] -> #1 service:web:1, StopContainer, down
        [1] -> #2 service:web:1, RemoveContainer(volumes), down
        [1] -> #3 service:cache:1, StopContainer, down
        [3] -> #4 service:cache:1, RemoveContainer(volumes), down
        [1] -> #5 service:db:1, StopContainer, down
        [5] -> #6 service:db:1, RemoveContainer(volumes), down
        [] -> #7 service:proxy:1, StopContainer, down
        [7] -> #8 service:proxy:1, RemoveContainer(volumes), down
        [2,4,6,8] -> #9 network:back, RemoveNetwork, down
        [2,4,6,8] -> #10 network:default, RemoveNetwork, down
        [2,4,6,8] -> #11 volume:data, RemoveVolume, down --volumes
        ",
    );
    // `-t` overrides every service's grace period.
    assert!(plan.ops().iter().all(|op| match op.action {
        Action::StopContainer { timeout, .. } => timeout == options.timeout,
        _ => true,
    }));
}

#[test]
fn down_uses_each_services_grace_period() {
    let plan = world().down(&DownOptions::default());
    let db_stop = plan
        .ops()
        .iter()
        .find_map(|op| match (&op.resource, &op.action) {
            (Resource::Container { service, .. }, Action::StopContainer { timeout, .. })
                if service == "db" =>
            {
                Some(*timeout)
            }
            _ => None,
        });
    assert_eq!(db_stop, Some(Some(std::time::Duration::from_secs(30))));
}

#[test]
fn a_stopped_service_passes_the_order_on_to_its_dependencies() {
    let yaml = "
services:
  a: {image: busybox, depends_on: [b]}
  b: {image: busybox, depends_on: [c]}
  c: {image: busybox}
";
    let mut world = World::new(yaml).up_to_date();
    world.edit("app-b-1").state = ContainerState::Exited;
    assert_plan(
        &world.down(&DownOptions::default()),
        "
        [] -> #1 service:a:1, StopContainer, down
        [1] -> #2 service:a:1, RemoveContainer, down
        [] -> #3 service:b:1, RemoveContainer, down
        [1] -> #4 service:c:1, StopContainer, down
        [4] -> #5 service:c:1, RemoveContainer, down
        [2,3,5] -> #6 network:default, RemoveNetwork, down
        ",
    );
}

#[test]
fn down_of_nothing_plans_nothing() {
    let world = World::new(STACK);
    assert_plan(&world.down(&DownOptions::default()), "");
}

#[test]
fn down_leaves_other_projects_networks_and_disabled_services_alone() {
    let yaml = "
services:
  web: {image: nginx}
";
    let mut world = World::new(yaml)
        .with("web", 1, ContainerState::Exited)
        .with_network("app_default");
    world.observed.networks[0]
        .labels
        .insert(labels::PROJECT.into(), "other".into());
    let mut debug = world.container("web", 1, ContainerState::Running);
    debug.name = "app-debug-1".into();
    debug.labels.insert(labels::SERVICE.into(), "debug".into());
    world.observed.containers.push(debug);
    let options = DownOptions {
        disabled_services: ["debug".to_owned()].into(),
        ..DownOptions::default()
    };
    assert_plan(
        &world.down(&options),
        "
        [] -> #1 service:web:1, RemoveContainer, down
        ",
    );
}

#[test]
fn down_removes_orphans_only_when_asked() {
    let yaml = "
services:
  web: {image: nginx}
";
    let mut world = World::new(yaml).up_to_date();
    let mut old = world.container("web", 1, ContainerState::Running);
    old.id = "old1".into();
    old.name = "app-old-1".into();
    old.labels.insert(labels::SERVICE.into(), "old".into());
    world.observed.containers.push(old);
    assert_plan(
        &world.down(&DownOptions::default()),
        "
        [] -> #1 service:web:1, StopContainer, down
        [1] -> #2 service:web:1, RemoveContainer, down
        [2] -> #3 network:default, RemoveNetwork, down
        warning: found orphan containers (app-old-1) for this project; if you removed \
        or renamed their service in the compose file, run this command with \
        --remove-orphans to clean them up
        ",
    );
    let options = DownOptions {
        remove_orphans: true,
        ..DownOptions::default()
    };
    assert_plan(
        &world.down(&options),
        "
        [] -> #1 service:web:1, StopContainer, down
        [1] -> #2 service:web:1, RemoveContainer, down
        [] -> #3 orphan:app-old-1, StopContainer, service old is not in the project
        [3] -> #4 orphan:app-old-1, RemoveContainer, service old is not in the project
        [2,4] -> #5 network:default, RemoveNetwork, down
        ",
    );
}

#[test]
fn down_remove_orphans_takes_running_one_off_containers() {
    let yaml = "
services:
  web: {image: nginx}
";
    let mut world = World::new(yaml).up_to_date();
    world.observed.containers.clear();
    let mut oneoff = world.container("web", 1, ContainerState::Running);
    oneoff.id = "run1".into();
    oneoff.name = "app-web-run-1".into();
    oneoff.labels.insert(labels::ONEOFF.into(), "True".into());
    world.observed.containers.push(oneoff);
    assert_plan(
        &world.down(&DownOptions::default()),
        "
        [] -> #1 network:default, RemoveNetwork, down
        ",
    );
    let options = DownOptions {
        remove_orphans: true,
        ..DownOptions::default()
    };
    assert_plan(
        &world.down(&options),
        "
        [] -> #1 orphan:app-web-run-1, StopContainer, one-off container (down --remove-orphans)
        [1] -> #2 orphan:app-web-run-1, RemoveContainer, one-off container (down --remove-orphans)
        [2] -> #3 network:default, RemoveNetwork, down
        ",
    );
}
