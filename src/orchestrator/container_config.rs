//! What the engine is asked to create for one container of a service: the
//! Docker API's create body, built from the service's spec and the plan's
//! `CreateContainer` op, as Docker Compose fills it. Pure: the containers a
//! service shares namespaces or volumes with are resolved to ids first.
//!
//! Every option the model has is passed on as Docker spells it; an engine
//! that does not support one says so, naming the field, and the `up` fails
//! naming the service.

use super::plan::CreateContainer;
use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointIpamConfig, EndpointSettings, HealthConfig,
    HostConfig, HostConfigCgroupnsModeEnum, HostConfigLogConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountTmpfsOptions, MountType, MountVolumeOptions,
    NetworkingConfig, PortBinding, ResourcesUlimits, RestartPolicy as ApiRestartPolicy,
    RestartPolicyNameEnum,
};
use stack_compose::model::{
    Healthcheck, NetworkMode, Project, Propagation, Protocol, RestartPolicy, Service, Ulimit,
    VolumeType,
};
use std::collections::{BTreeMap, HashMap};

/// The create body of `create`, whose spec is `project.services[create.service]`;
/// `shares` maps each service named in `create.shares` to the id of the
/// container to share with.
pub fn create_body(
    project: &Project,
    spec: &Service,
    create: &CreateContainer,
    shares: &BTreeMap<String, String>,
) -> ContainerCreateBody {
    let networks = attached_networks(project, spec);
    ContainerCreateBody {
        image: Some(create.image.clone()),
        labels: Some(create.labels.clone().into_iter().collect()),
        cmd: spec.command.clone(),
        entrypoint: spec.entrypoint.clone(),
        env: some_vec(environment(spec)),
        working_dir: spec.working_dir.clone(),
        user: spec.user.clone(),
        hostname: spec.hostname.clone(),
        domainname: spec.domainname.clone(),
        tty: Some(spec.tty),
        open_stdin: Some(spec.stdin_open),
        stop_signal: spec.stop_signal.clone(),
        stop_timeout: spec.stop_grace_period.map(|d| d.as_std().as_secs() as i64),
        exposed_ports: some_vec(exposed_ports(spec)),
        healthcheck: spec.healthcheck.as_ref().map(healthcheck),
        host_config: Some(host_config(project, spec, create, shares, &networks)),
        networking_config: (!networks.is_empty()).then(|| NetworkingConfig {
            endpoints_config: Some(
                networks
                    .iter()
                    .map(|n| {
                        // On a network_mode's network, the name is Docker's only.
                        let service = spec
                            .network_mode
                            .is_none()
                            .then_some(create.service.as_str());
                        (n.name.clone(), endpoint(service, n))
                    })
                    .collect(),
            ),
        }),
        ..ContainerCreateBody::default()
    }
}

fn some_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// `KEY=value` for each variable with a value; a variable left without
/// one (not set anywhere) is not passed, as Compose does.
fn environment(spec: &Service) -> Vec<String> {
    spec.environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect()
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

/// `80/tcp` for every `expose` entry and every port target, sorted.
fn exposed_ports(spec: &Service) -> Vec<String> {
    let mut ports: Vec<String> = spec
        .expose
        .iter()
        .map(|e| {
            if e.contains('/') {
                e.clone()
            } else {
                format!("{e}/tcp")
            }
        })
        .chain(
            spec.ports
                .iter()
                .map(|p| format!("{}/{}", p.target, protocol(p.protocol))),
        )
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

fn nanos(d: Option<stack_compose::model::Duration>) -> Option<i64> {
    d.map(|d| d.as_std().as_nanos() as i64)
}

fn healthcheck(h: &Healthcheck) -> HealthConfig {
    if h.is_disabled() {
        return HealthConfig {
            test: Some(vec!["NONE".to_owned()]),
            ..HealthConfig::default()
        };
    }
    HealthConfig {
        test: some_vec(h.test.clone()),
        interval: nanos(h.interval),
        timeout: nanos(h.timeout),
        retries: h.retries.map(|r| r as i64),
        start_period: nanos(h.start_period),
        start_interval: nanos(h.start_interval),
    }
}

/// A project network a container joins, with the service's settings on it.
struct Attached {
    name: String,
    aliases: Vec<String>,
    ipv4_address: Option<String>,
    ipv6_address: Option<String>,
    mac_address: Option<String>,
}

/// The networks a service's containers join: its `networks:` in the order
/// written, unless `network_mode` says otherwise (then only a network it
/// names, for a service-wide `mac_address`). The service-wide
/// `mac_address` is the container's on its first network, as Docker
/// places it, unless that network's settings give one.
fn attached_networks(project: &Project, spec: &Service) -> Vec<Attached> {
    let mut attached: Vec<Attached> = match &spec.network_mode {
        None => spec
            .networks
            .iter()
            .filter_map(|(key, settings)| {
                let network = project.networks.get(key)?;
                let settings = settings.clone().unwrap_or_default();
                Some(Attached {
                    name: network.name.clone(),
                    aliases: settings.aliases,
                    ipv4_address: settings.ipv4_address,
                    ipv6_address: settings.ipv6_address,
                    mac_address: settings.mac_address,
                })
            })
            .collect(),
        Some(NetworkMode::Bridge | NetworkMode::Other(_)) if spec.mac_address.is_some() => {
            let name = spec.network_mode.as_ref().map(ToString::to_string);
            vec![Attached {
                name: name.unwrap_or_default(),
                aliases: Vec::new(),
                ipv4_address: None,
                ipv6_address: None,
                mac_address: None,
            }]
        }
        Some(_) => Vec::new(),
    };
    if let Some(first) = attached.first_mut() {
        first.mac_address = first.mac_address.take().or(spec.mac_address.clone());
    }
    attached
}

/// The endpoint of a container of `service` on `network`: reachable by the
/// service name (when given) and the service's aliases there.
fn endpoint(service: Option<&str>, network: &Attached) -> EndpointSettings {
    let mut aliases: Vec<String> = service.into_iter().map(str::to_owned).collect();
    aliases.extend(network.aliases.iter().cloned());
    let ipam = (network.ipv4_address.is_some() || network.ipv6_address.is_some()).then(|| {
        EndpointIpamConfig {
            ipv4_address: network.ipv4_address.clone(),
            ipv6_address: network.ipv6_address.clone(),
            ..EndpointIpamConfig::default()
        }
    });
    EndpointSettings {
        aliases: (!aliases.is_empty()).then_some(aliases),
        ipam_config: ipam,
        mac_address: network.mac_address.clone(),
        ..EndpointSettings::default()
    }
}

/// `container:<id>` for `service:NAME`, the value otherwise.
fn shared_namespace(value: &Option<String>, shares: &BTreeMap<String, String>) -> Option<String> {
    let value = value.as_ref()?;
    match value.strip_prefix("service:") {
        Some(service) => shares.get(service).map(|id| format!("container:{id}")),
        None => Some(value.clone()),
    }
}

fn network_mode(
    spec: &Service,
    shares: &BTreeMap<String, String>,
    networks: &[Attached],
) -> Option<String> {
    match &spec.network_mode {
        None => networks.first().map(|n| n.name.clone()),
        Some(NetworkMode::Service(service)) => {
            shares.get(service).map(|id| format!("container:{id}"))
        }
        Some(mode) => Some(mode.to_string()),
    }
}

/// `volumes_from` with services resolved to their containers' ids.
fn volumes_from(spec: &Service, shares: &BTreeMap<String, String>) -> Vec<String> {
    spec.volumes_from
        .iter()
        .filter_map(|from| {
            if let Some(container) = from.strip_prefix("container:") {
                return Some(container.to_owned());
            }
            let (service, mode) = match from.split_once(':') {
                Some((service, mode)) => (service, Some(mode)),
                None => (from.as_str(), None),
            };
            let id = shares.get(service)?;
            Some(match mode {
                Some(mode) => format!("{id}:{mode}"),
                None => id.clone(),
            })
        })
        .collect()
}

fn propagation(p: Propagation) -> MountBindOptionsPropagationEnum {
    match p {
        Propagation::Private => MountBindOptionsPropagationEnum::PRIVATE,
        Propagation::Rprivate => MountBindOptionsPropagationEnum::RPRIVATE,
        Propagation::Shared => MountBindOptionsPropagationEnum::SHARED,
        Propagation::Rshared => MountBindOptionsPropagationEnum::RSHARED,
        Propagation::Slave => MountBindOptionsPropagationEnum::SLAVE,
        Propagation::Rslave => MountBindOptionsPropagationEnum::RSLAVE,
    }
}

/// Bind mounts as `Binds` (so the engine creates a missing host path, as
/// Compose asks by default), everything else as `Mounts`; then the
/// anonymous volumes taken over from a replaced container.
fn mounts(
    project: &Project,
    spec: &Service,
    create: &CreateContainer,
) -> (Vec<String>, Vec<Mount>) {
    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for m in &spec.volumes {
        let read_only = m.read_only.then_some(true);
        match m.kind {
            VolumeType::Bind => {
                let source = m.source.clone().unwrap_or_default();
                let create_host_path = m.bind.as_ref().is_none_or(|b| b.create_host_path);
                let propagation = m.bind.as_ref().and_then(|b| b.propagation);
                if create_host_path && propagation.is_none() {
                    let mode = if m.read_only { ":ro" } else { "" };
                    binds.push(format!("{source}:{}{mode}", m.target));
                } else {
                    mounts.push(Mount {
                        typ: Some(MountType::BIND),
                        source: Some(source),
                        target: Some(m.target.clone()),
                        read_only,
                        bind_options: Some(MountBindOptions {
                            propagation: propagation.map(self::propagation),
                            create_mountpoint: Some(create_host_path),
                            ..MountBindOptions::default()
                        }),
                        ..Mount::default()
                    });
                }
            }
            VolumeType::Volume => {
                // A top-level volume by its engine name; no source is an
                // anonymous volume the engine names.
                let source = m.source.as_ref().map(|key| {
                    project
                        .volumes
                        .get(key)
                        .map_or_else(|| key.clone(), |v| v.name.clone())
                });
                let from_replaced =
                    source.is_none() && create.inherit.iter().any(|i| i.target == m.target);
                if from_replaced {
                    continue;
                }
                let options = m
                    .volume
                    .as_ref()
                    .filter(|v| v.nocopy || v.subpath.is_some());
                mounts.push(Mount {
                    typ: Some(MountType::VOLUME),
                    source,
                    target: Some(m.target.clone()),
                    read_only,
                    volume_options: options.map(|v| MountVolumeOptions {
                        no_copy: v.nocopy.then_some(true),
                        subpath: v.subpath.clone(),
                        ..MountVolumeOptions::default()
                    }),
                    ..Mount::default()
                });
            }
            VolumeType::Tmpfs => mounts.push(Mount {
                typ: Some(MountType::TMPFS),
                target: Some(m.target.clone()),
                read_only,
                tmpfs_options: m.tmpfs.as_ref().map(|t| MountTmpfsOptions {
                    size_bytes: t.size.map(|b| b.0),
                    mode: t.mode.map(i64::from),
                    ..MountTmpfsOptions::default()
                }),
                ..Mount::default()
            }),
            VolumeType::Npipe | VolumeType::Cluster | VolumeType::Image => {
                let typ = match m.kind {
                    VolumeType::Npipe => MountType::NPIPE,
                    VolumeType::Cluster => MountType::CLUSTER,
                    _ => MountType::IMAGE,
                };
                mounts.push(Mount {
                    typ: Some(typ),
                    source: m.source.clone(),
                    target: Some(m.target.clone()),
                    read_only,
                    ..Mount::default()
                });
            }
        }
    }
    for inherited in &create.inherit {
        mounts.push(Mount {
            typ: Some(MountType::VOLUME),
            source: Some(inherited.volume.clone()),
            target: Some(inherited.target.clone()),
            read_only: inherited.read_only.then_some(true),
            ..Mount::default()
        });
    }
    (binds, mounts)
}

/// `--tmpfs` entries (`/run:size=64k`) as Docker's `Tmpfs` map.
fn tmpfs(spec: &Service) -> HashMap<String, String> {
    spec.tmpfs
        .iter()
        .map(|entry| match entry.split_once(':') {
            Some((path, options)) => (path.to_owned(), options.to_owned()),
            None => (entry.clone(), String::new()),
        })
        .collect()
}

/// `published` ports as Docker's `PortBindings` (`80/tcp` → host ip and port).
fn port_bindings(spec: &Service) -> HashMap<String, Option<Vec<PortBinding>>> {
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &spec.ports {
        let key = format!("{}/{}", port.target, protocol(port.protocol));
        let entry = bindings.entry(key).or_insert_with(|| Some(Vec::new()));
        if let Some(list) = entry {
            list.push(PortBinding {
                host_ip: port.host_ip.clone(),
                host_port: port.published.clone(),
            });
        }
    }
    bindings
}

fn restart_policy(policy: RestartPolicy) -> ApiRestartPolicy {
    let (name, retries) = match policy {
        RestartPolicy::No => (RestartPolicyNameEnum::NO, None),
        RestartPolicy::Always => (RestartPolicyNameEnum::ALWAYS, None),
        RestartPolicy::UnlessStopped => (RestartPolicyNameEnum::UNLESS_STOPPED, None),
        RestartPolicy::OnFailure(n) => (RestartPolicyNameEnum::ON_FAILURE, n.map(i64::from)),
    };
    ApiRestartPolicy {
        name: Some(name),
        maximum_retry_count: retries,
    }
}

fn ulimits(spec: &Service) -> Vec<ResourcesUlimits> {
    spec.ulimits
        .iter()
        .map(|(name, limit)| {
            let (soft, hard) = match *limit {
                Ulimit::Single(n) => (n, n),
                Ulimit::Range { soft, hard } => (soft, hard),
            };
            ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(soft),
                hard: Some(hard),
            }
        })
        .collect()
}

fn host_config(
    project: &Project,
    spec: &Service,
    create: &CreateContainer,
    shares: &BTreeMap<String, String>,
    networks: &[Attached],
) -> HostConfig {
    let (binds, mounts) = mounts(project, spec, create);
    let tmpfs = tmpfs(spec);
    let ports = port_bindings(spec);
    let sysctls: HashMap<String, String> = spec
        .sysctls
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let extra_hosts: Vec<String> = spec
        .extra_hosts
        .iter()
        .flat_map(|(host, ips)| ips.iter().map(move |ip| format!("{host}:{ip}")))
        .collect();
    HostConfig {
        binds: some_vec(binds),
        mounts: some_vec(mounts),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        port_bindings: (!ports.is_empty()).then_some(ports),
        network_mode: network_mode(spec, shares, networks),
        ipc_mode: shared_namespace(&spec.ipc, shares),
        pid_mode: shared_namespace(&spec.pid, shares),
        uts_mode: spec.uts.clone(),
        cgroupns_mode: spec.cgroup.as_deref().map(|mode| match mode {
            "host" => HostConfigCgroupnsModeEnum::HOST,
            _ => HostConfigCgroupnsModeEnum::PRIVATE,
        }),
        volumes_from: some_vec(volumes_from(spec, shares)),
        memory: spec.memory_limit().map(|b| b.0),
        memory_reservation: spec.mem_reservation.map(|b| b.0),
        memory_swap: spec.memswap_limit.map(|b| b.0),
        nano_cpus: spec.cpu_limit().map(|c| (c * 1e9) as i64),
        cpu_shares: spec.cpu_shares,
        cpu_quota: spec.cpu_quota,
        cpu_period: spec.cpu_period,
        memory_swappiness: spec.mem_swappiness,
        cpuset_cpus: spec.cpuset.clone(),
        pids_limit: spec.pids_limit(),
        shm_size: spec.shm_size.map(|b| b.0),
        oom_score_adj: spec.oom_score_adj,
        readonly_rootfs: Some(spec.read_only),
        privileged: Some(spec.privileged),
        init: spec.init,
        cap_add: some_vec(spec.cap_add.clone()),
        cap_drop: some_vec(spec.cap_drop.clone()),
        security_opt: some_vec(spec.security_opt.clone()),
        group_add: some_vec(spec.group_add.clone()),
        dns: some_vec(spec.dns.clone()),
        dns_options: some_vec(spec.dns_opt.clone()),
        dns_search: some_vec(spec.dns_search.clone()),
        extra_hosts: some_vec(extra_hosts),
        sysctls: (!sysctls.is_empty()).then_some(sysctls),
        ulimits: some_vec(ulimits(spec)),
        devices: some_vec(
            spec.devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: Some(d.source.clone()),
                    path_in_container: Some(d.target.clone()),
                    cgroup_permissions: d.permissions.clone(),
                })
                .collect(),
        ),
        device_cgroup_rules: some_vec(spec.device_cgroup_rules.clone()),
        restart_policy: spec.restart.map(restart_policy),
        log_config: spec.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: l.driver.clone(),
            config: (!l.options.is_empty()).then(|| {
                l.options
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }),
        }),
        ..HostConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrator::plan::InheritedMount;

    fn load(yaml: &str) -> Project {
        crate::orchestrator::test_project::load(yaml).project
    }

    fn create(service: &str) -> CreateContainer {
        CreateContainer {
            service: service.into(),
            number: 1,
            name: format!("app-{service}-1"),
            image: "busybox".into(),
            labels: [("a".to_owned(), "b".to_owned())].into_iter().collect(),
            inherit: vec![],
            shares: BTreeMap::new(),
        }
    }

    #[test]
    fn resource_limits_and_kernel_settings() {
        let project = load(
            "services:\n  web:\n    image: busybox\n    mem_limit: 64m\n    memswap_limit: 96m\n    \
             mem_reservation: 32m\n    mem_swappiness: 0\n    cpu_shares: 512\n    \
             cpu_quota: 50000\n    cpu_period: 100000\n    cpuset: '0'\n    oom_score_adj: 200\n    \
             sysctls: {kernel.shmmax: '1024'}\n    group_add: [audio]\n    shm_size: 16m\n    \
             domainname: example.org\n    pid: host\n    ipc: host\n",
        );
        let body = create_body(
            &project,
            &project.services["web"],
            &create("web"),
            &BTreeMap::new(),
        );
        assert_eq!(body.domainname.as_deref(), Some("example.org"));
        let host = body.host_config.expect("host config");
        assert_eq!(
            (host.memory, host.memory_swap, host.memory_reservation),
            (Some(64 << 20), Some(96 << 20), Some(32 << 20))
        );
        assert_eq!(host.memory_swappiness, Some(0));
        assert_eq!(
            (host.cpu_shares, host.cpu_quota, host.cpu_period),
            (Some(512), Some(50_000), Some(100_000))
        );
        assert_eq!(host.cpuset_cpus.as_deref(), Some("0"));
        assert_eq!(host.oom_score_adj, Some(200));
        assert_eq!(host.sysctls.expect("sysctls")["kernel.shmmax"], "1024");
        assert_eq!(host.group_add, Some(vec!["audio".to_owned()]));
        assert_eq!(host.shm_size, Some(16 << 20));
        assert_eq!(
            (host.pid_mode.as_deref(), host.ipc_mode.as_deref()),
            (Some("host"), Some("host"))
        );
    }

    #[test]
    fn a_service_on_the_default_network() {
        let project = load(
            "services:\n  web:\n    image: busybox\n    command: [sleep, '60']\n    \
             environment: {A: '1'}\n    ports: ['8080:80']\n    read_only: true\n    \
             cap_add: [NET_ADMIN]\n    volumes: [data:/data, /tmp:/host:ro, /anon]\n\
             volumes:\n  data: {}\n",
        );
        let spec = &project.services["web"];
        let body = create_body(&project, spec, &create("web"), &BTreeMap::new());
        assert_eq!(body.cmd, Some(vec!["sleep".to_owned(), "60".to_owned()]));
        assert_eq!(body.env, Some(vec!["A=1".to_owned()]));
        assert_eq!(body.exposed_ports, Some(vec!["80/tcp".to_owned()]));
        let host = body.host_config.expect("host config");
        assert_eq!(host.network_mode.as_deref(), Some("app_default"));
        assert_eq!(host.binds, Some(vec!["/tmp:/host:ro".to_owned()]));
        let mounts = host.mounts.expect("mounts");
        assert_eq!(mounts[0].source.as_deref(), Some("app_data"));
        assert_eq!(mounts[1].source, None);
        assert_eq!(mounts[1].target.as_deref(), Some("/anon"));
        let ports = host.port_bindings.expect("ports");
        let binding = &ports["80/tcp"].as_ref().expect("bindings")[0];
        assert_eq!(binding.host_port.as_deref(), Some("8080"));
        assert_eq!(host.readonly_rootfs, Some(true));
        assert_eq!(host.cap_add, Some(vec!["NET_ADMIN".to_owned()]));
        let endpoints = body
            .networking_config
            .and_then(|n| n.endpoints_config)
            .expect("endpoints");
        assert_eq!(
            endpoints["app_default"].aliases,
            Some(vec!["web".to_owned()])
        );
    }

    #[test]
    fn shared_namespaces_and_inherited_volumes() {
        let project = load(
            "services:\n  db:\n    image: busybox\n    network_mode: none\n  \
             app:\n    image: busybox\n    network_mode: service:db\n    \
             ipc: service:db\n    volumes_from: ['db:ro']\n    volumes: [/cache]\n",
        );
        let mut op = create("app");
        op.inherit.push(InheritedMount {
            volume: "abc".into(),
            target: "/cache".into(),
            read_only: false,
        });
        let shares = [("db".to_owned(), "c0ffee".to_owned())]
            .into_iter()
            .collect();
        let body = create_body(&project, &project.services["app"], &op, &shares);
        let host = body.host_config.expect("host config");
        assert_eq!(host.network_mode.as_deref(), Some("container:c0ffee"));
        assert_eq!(host.ipc_mode.as_deref(), Some("container:c0ffee"));
        assert_eq!(host.volumes_from, Some(vec!["c0ffee:ro".to_owned()]));
        let mounts = host.mounts.expect("mounts");
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].source.as_deref(), Some("abc"));
        assert!(body.networking_config.is_none());
        let db = create_body(&project, &project.services["db"], &create("db"), &shares);
        assert_eq!(
            db.host_config.and_then(|h| h.network_mode).as_deref(),
            Some("none")
        );
    }

    #[test]
    fn ulimits_and_security_options_as_docker_takes_them() {
        let project = load(
            "services:\n  web:\n    image: busybox\n    \
             ulimits: {nproc: 64, nofile: {soft: 100, hard: 200}, memlock: -1}\n    \
             security_opt: [no-new-privileges:true, seccomp=unconfined]\n",
        );
        let body = create_body(
            &project,
            &project.services["web"],
            &create("web"),
            &BTreeMap::new(),
        );
        let host = body.host_config.expect("host config");
        let limits: Vec<(String, i64, i64)> = host
            .ulimits
            .expect("ulimits")
            .into_iter()
            .map(|u| (u.name.unwrap(), u.soft.unwrap(), u.hard.unwrap()))
            .collect();
        assert_eq!(
            limits,
            [
                ("nproc".to_owned(), 64, 64),
                ("nofile".to_owned(), 100, 200),
                ("memlock".to_owned(), -1, -1)
            ]
        );
        assert_eq!(
            host.security_opt,
            Some(vec![
                "no-new-privileges:true".to_owned(),
                "seccomp=unconfined".to_owned()
            ])
        );
    }
}
