//! One service: every attribute read, normalized and checked.

use super::attributes::{
    build, depends_on, deploy, devices, env_files, extra_hosts, file_refs, healthcheck, logging,
    service_networks, ulimits,
};
use super::ports::ports;
use super::reader::{
    boolean, bytes, command, duration, float, integer, key_values, string, string_list, string_map,
    string_or_list, to_json, MapReader, Sink,
};
use super::volumes::mounts;
use crate::model::{
    DependsOn, Environment, FileRef, NetworkMode, PullPolicy, RestartPolicy, Service,
};
use crate::tree::{KeyPath, Node};

/// Valid Compose attributes that `stack` keeps verbatim but does not act on.
const UNSUPPORTED: &[&str] = &[
    "annotations",
    "blkio_config",
    "cgroup_parent",
    "cpu_count",
    "cpu_percent",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "credential_spec",
    "develop",
    "external_links",
    "gpus",
    "isolation",
    "label_file",
    "log_driver",
    "log_opt",
    "models",
    "oom_kill_disable",
    "post_start",
    "pre_start",
    "pre_stop",
    "provider",
    "pull_refresh_after",
    "runtime",
    "storage_opt",
    "use_api_socket",
    "userns_mode",
    "volume_driver",
];

/// Keys often written at the service level that belong in a nested attribute.
const MISPLACED: &[(&str, &str)] = &[
    ("replicas", "deploy.replicas"),
    ("resources", "deploy.resources"),
    ("restart_policy", "deploy.restart_policy"),
    ("memory", "mem_limit"),
    ("memory_limit", "mem_limit"),
    ("env", "environment"),
    ("aliases", "networks.<network>.aliases"),
    ("ipv4_address", "networks.<network>.ipv4_address"),
    ("condition", "depends_on.<service>.condition"),
    ("test", "healthcheck.test"),
    ("interval", "healthcheck.interval"),
    ("retries", "healthcheck.retries"),
    ("context", "build.context"),
    ("dockerfile", "build.dockerfile"),
    ("args", "build.args"),
];

pub(super) fn service(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Service> {
    let mut m = MapReader::new(sink, node, path)?.with_misplaced(MISPLACED);
    let mut s = Service {
        attach: m.read(sink, "attach", boolean),
        build: m.read(sink, "build", build),
        cap_add: m.read(sink, "cap_add", string_list).unwrap_or_default(),
        cap_drop: m.read(sink, "cap_drop", string_list).unwrap_or_default(),
        command: m.read(sink, "command", command),
        configs: m.read(sink, "configs", file_refs).unwrap_or_default(),
        container_name: m.read(sink, "container_name", string),
        cpu_period: m.read(sink, "cpu_period", integer),
        cpu_quota: m.read(sink, "cpu_quota", integer),
        cpu_shares: m.read(sink, "cpu_shares", integer),
        cpus: m.read(sink, "cpus", float),
        cpuset: m.read(sink, "cpuset", string),
        depends_on: m.read(sink, "depends_on", depends_on).unwrap_or_default(),
        deploy: m.read(sink, "deploy", deploy),
        cgroup: m.parse(sink, "cgroup", cgroup_mode),
        mac_address: m.read(sink, "mac_address", string),
        device_cgroup_rules: m
            .read(sink, "device_cgroup_rules", string_list)
            .unwrap_or_default(),
        devices: m.read(sink, "devices", devices).unwrap_or_default(),
        dns: m.read(sink, "dns", string_or_list).unwrap_or_default(),
        dns_opt: m.read(sink, "dns_opt", string_list).unwrap_or_default(),
        dns_search: m
            .read(sink, "dns_search", string_or_list)
            .unwrap_or_default(),
        domainname: m.read(sink, "domainname", string),
        entrypoint: m.read(sink, "entrypoint", command),
        env_file: m.read(sink, "env_file", env_files).unwrap_or_default(),
        environment: m.read(sink, "environment", environment).unwrap_or_default(),
        expose: m.read(sink, "expose", string_list).unwrap_or_default(),
        extra_hosts: m.read(sink, "extra_hosts", extra_hosts).unwrap_or_default(),
        group_add: m.read(sink, "group_add", string_list).unwrap_or_default(),
        healthcheck: m.read(sink, "healthcheck", healthcheck),
        hostname: m.read(sink, "hostname", string),
        image: m.read(sink, "image", string),
        init: m.read(sink, "init", boolean),
        ipc: m.read(sink, "ipc", string),
        labels: m.read(sink, "labels", string_map).unwrap_or_default(),
        links: m.read(sink, "links", string_list).unwrap_or_default(),
        logging: m.read(sink, "logging", logging),
        mem_limit: m.read(sink, "mem_limit", bytes),
        mem_reservation: m.read(sink, "mem_reservation", bytes),
        mem_swappiness: m.read(sink, "mem_swappiness", integer),
        memswap_limit: m.read(sink, "memswap_limit", bytes),
        network_mode: m.parse(sink, "network_mode", network_mode),
        networks: m
            .read(sink, "networks", service_networks)
            .unwrap_or_default(),
        oom_score_adj: m.read(sink, "oom_score_adj", integer),
        pid: m.read(sink, "pid", string),
        pids_limit: m.read(sink, "pids_limit", integer),
        platform: m.read(sink, "platform", string),
        ports: m
            .read(sink, "ports", |s, n, p| Some(ports(s, n, p)))
            .unwrap_or_default(),
        privileged: m.read(sink, "privileged", boolean).unwrap_or(false),
        profiles: m.read(sink, "profiles", string_list).unwrap_or_default(),
        pull_policy: m.parse(sink, "pull_policy", pull_policy),
        read_only: m.read(sink, "read_only", boolean).unwrap_or(false),
        restart: m.parse(sink, "restart", restart),
        scale: m.read(sink, "scale", integer),
        secrets: m
            .read(sink, "secrets", file_refs)
            .map(default_secret_targets)
            .unwrap_or_default(),
        security_opt: m
            .read(sink, "security_opt", string_list)
            .unwrap_or_default(),
        shm_size: m.read(sink, "shm_size", bytes),
        stdin_open: m.read(sink, "stdin_open", boolean).unwrap_or(false),
        stop_grace_period: m.read(sink, "stop_grace_period", duration),
        stop_signal: m.read(sink, "stop_signal", string),
        sysctls: m.read(sink, "sysctls", string_map).unwrap_or_default(),
        tmpfs: m.read(sink, "tmpfs", string_or_list).unwrap_or_default(),
        tty: m.read(sink, "tty", boolean).unwrap_or(false),
        ulimits: m.read(sink, "ulimits", ulimits).unwrap_or_default(),
        user: m.read(sink, "user", string),
        uts: m.read(sink, "uts", string),
        volumes: m
            .read(sink, "volumes", |s, n, p| Some(mounts(s, n, p)))
            .unwrap_or_default(),
        volumes_from: m
            .read(sink, "volumes_from", string_list)
            .unwrap_or_default(),
        working_dir: m.read(sink, "working_dir", string),
        ..Service::default()
    };
    // Resolved by the `extends` stage before conversion; nothing left to read.
    m.get("extends");
    if let (Some(_), Some(at)) = (m.get("platform"), m.key_location("platform")) {
        sink.unsupported("platform", at, &path.key("platform"));
    }
    for key in UNSUPPORTED {
        if let (Some((n, _)), Some(at)) = (m.get(key), m.key_location(key)) {
            sink.unsupported(key, at, &path.key(key));
            s.unsupported.insert((*key).to_string(), to_json(n));
        }
    }
    s.extensions = m.finish(sink, true);
    implicit_dependencies(&mut s);
    Some(s)
}

/// A secret is mounted at `/run/secrets/<name>` unless a target is given.
fn default_secret_targets(mut refs: Vec<FileRef>) -> Vec<FileRef> {
    for r in &mut refs {
        if r.target.is_none() {
            r.target = Some(format!("/run/secrets/{}", r.source));
        }
    }
    refs
}

/// `environment:`; a variable listed without a value takes its value from
/// the environment when set there, else stays unset (`null`), as Compose does.
fn environment(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Environment> {
    let mut vars = key_values(sink, node, path)?;
    for (name, value) in vars.iter_mut() {
        if value.is_none() {
            *value = sink.ctx.env.get(name).map(str::to_string);
        }
    }
    Some(vars)
}

fn network_mode(text: &str) -> Result<NetworkMode, (String, String)> {
    Ok(match text {
        "bridge" => NetworkMode::Bridge,
        "host" => NetworkMode::Host,
        "none" => NetworkMode::None,
        "" | "service:" | "container:" => {
            return Err((
                format!("`{text}` names no network mode"),
                "use host, none, bridge, service:<service> or container:<container>".into(),
            ))
        }
        t => match (t.strip_prefix("service:"), t.strip_prefix("container:")) {
            (Some(s), _) => NetworkMode::Service(s.to_string()),
            (_, Some(c)) => NetworkMode::Container(c.to_string()),
            _ => NetworkMode::Other(t.to_string()),
        },
    })
}

fn cgroup_mode(text: &str) -> Result<String, (String, String)> {
    match text {
        "host" | "private" => Ok(text.to_owned()),
        t => Err((
            format!("unknown cgroup namespace mode `{t}`"),
            "use host or private".into(),
        )),
    }
}

fn pull_policy(text: &str) -> Result<PullPolicy, (String, String)> {
    Ok(match text {
        "always" => PullPolicy::Always,
        "never" => PullPolicy::Never,
        "missing" | "if_not_present" => PullPolicy::Missing,
        "build" => PullPolicy::Build,
        "refresh" => PullPolicy::Refresh,
        "daily" => PullPolicy::Daily,
        "weekly" => PullPolicy::Weekly,
        t => match t.strip_prefix("every_") {
            Some(d) if super::text::parse_duration(d).is_some() => PullPolicy::Every(d.to_string()),
            _ => {
                return Err((
                    format!("unknown pull policy `{t}`"),
                    "use always, never, missing, build, refresh, daily, weekly or every_<duration>"
                        .into(),
                ))
            }
        },
    })
}

fn restart(text: &str) -> Result<RestartPolicy, (String, String)> {
    let err = || {
        (
            format!("unknown restart policy `{text}`"),
            "use `no`, `always`, `on-failure[:max-retries]` or `unless-stopped`".to_string(),
        )
    };
    Ok(match text {
        "no" => RestartPolicy::No,
        "always" => RestartPolicy::Always,
        "unless-stopped" => RestartPolicy::UnlessStopped,
        "on-failure" => RestartPolicy::OnFailure(None),
        t => match t.strip_prefix("on-failure:") {
            Some(n) => RestartPolicy::OnFailure(Some(n.parse().map_err(|_| err())?)),
            None => return Err(err()),
        },
    })
}

/// Dependencies Compose infers: `links`, `service:` namespaces and
/// `volumes_from` start the other service first.
fn implicit_dependencies(s: &mut Service) {
    let mut add = |name: &str, restart: bool| {
        if !name.is_empty() && !s.depends_on.contains_key(name) {
            let mut dep = DependsOn::started();
            dep.restart = restart;
            s.depends_on.insert(name.to_string(), dep);
        }
    };
    for link in &s.links {
        add(link.split(':').next().unwrap_or_default(), true);
    }
    if let Some(NetworkMode::Service(other)) = &s.network_mode {
        add(other, true);
    }
    for ns in [&s.ipc, &s.pid].into_iter().flatten() {
        if let Some(other) = ns.strip_prefix("service:") {
            add(other, true);
        }
    }
    for from in &s.volumes_from {
        if !from.starts_with("container:") {
            add(from.split(':').next().unwrap_or_default(), false);
        }
    }
}
