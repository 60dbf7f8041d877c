//! One service of a project, every attribute in its normalized (long) form.

use super::build::Build;
use super::mount::Mount;
use super::values::{
    Bytes, Duration, Extensions, FileMode, NetworkMode, PortMode, Protocol, PullPolicy,
    RestartCondition, RestartPolicy, ServiceCondition,
};
use indexmap::IndexMap;
use serde::{Serialize, Serializer};

/// `environment:` / `build.args:`: a variable without a value (`FOO` not set
/// anywhere) is `None` and printed as `null`, as Compose does.
pub type Environment = IndexMap<String, Option<String>>;

/// Labels, sysctls, driver options: string to string.
pub type StringMap = IndexMap<String, String>;

pub(super) fn is_false(b: &bool) -> bool {
    !*b
}

/// A service as `docker compose config` shows it. Attributes Compose accepts
/// but `stack` does not model are kept verbatim in `unsupported`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Service {
    /// Whether `up` attaches to the service's logs (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<bool>,
    /// How to build the image, when it is built locally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    /// Capabilities added to the default set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Capabilities removed from the default set (`ALL` for all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// `None` when not set (the image's `CMD` applies); `Some([])` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Configs mounted into the containers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<FileRef>,
    /// A fixed container name instead of `<project>-<service>-<n>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// CFS period in microseconds that `cpu_quota` is counted in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    /// CPU time in microseconds the containers may use per `cpu_period`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    /// Relative CPU weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    /// CPU limit in CPUs (`1.5`); see also [`Service::cpu_limit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// CPUs the containers may run on (`0-3`, `0,1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    /// Dependencies by service name, in file order.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub depends_on: IndexMap<String, DependsOn>,
    /// Replicas, resources and restart policy (`deploy:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    /// The containers' MAC address on their first network (the per-network
    /// `mac_address` wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    /// Cgroup namespace: `host` or `private`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    /// Device cgroup rules (`c 1:3 mr`) allowed in the containers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_cgroup_rules: Vec<String>,
    /// Host devices made available in the containers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    /// DNS servers for the containers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    /// Resolver options (`ndots:2`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    /// DNS search domains.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    /// The containers' domain name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// `None` when not set (the image's `ENTRYPOINT` applies); `Some([])` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Files of variables added to the environment (read by the loader).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<EnvFile>,
    /// Environment variables of the containers.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub environment: Environment,
    /// Ports exposed to linked services only (no publishing), as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    /// Host name → addresses; printed as a sorted list of `host=ip`.
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        serialize_with = "serialize_extra_hosts"
    )]
    pub extra_hosts: IndexMap<String, Vec<String>>,
    /// Additional groups of the container user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// How the engine checks that a container is healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// The containers' host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The image to run (or the tag of the built image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Run a tiny init as PID 1 that reaps zombies and forwards signals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// IPC namespace: `host`, `shareable`, `service:<name>` or `container:<id>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    /// Labels set on the containers.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    /// Legacy links (`service[:alias]`); they also add dependencies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Log driver and options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Memory limit; see also [`Service::memory_limit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<Bytes>,
    /// Memory soft limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<Bytes>,
    /// How eagerly the kernel swaps the containers' memory (0 to 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_swappiness: Option<i64>,
    /// Memory plus swap limit (`-1`: unlimited swap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memswap_limit: Option<Bytes>,
    /// Network namespace other than the project networks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<NetworkMode>,
    /// Networks by key; `None` (printed `null`) means attached with no options.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, Option<ServiceNetwork>>,
    /// OOM killer preference (-1000 to 1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i64>,
    /// PID namespace: `host`, `service:<name>` or `container:<id>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// Process limit (`-1`: unlimited); see also [`Service::pids_limit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// Target platform of the image (`linux/amd64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Published ports, one entry per port.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Run with extended privileges.
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    /// Profiles that enable the service; none means always enabled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// When to pull the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// Mount the root filesystem read-only.
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// What the engine does when a container exits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
    /// Number of containers; see also [`Service::replicas`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// Secrets mounted into the containers (at `/run/secrets/<name>` by default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<FileRef>,
    /// Security options (`no-new-privileges:true`, `seccomp=...`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// Size of `/dev/shm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Bytes>,
    /// Keep stdin open (`docker run -i`).
    #[serde(skip_serializing_if = "is_false")]
    pub stdin_open: bool,
    /// Time between the stop signal and SIGKILL (default 10s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Duration>,
    /// Signal that stops a container (default SIGTERM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Namespaced kernel parameters.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub sysctls: StringMap,
    /// Paths mounted as tmpfs (`/run`, `/tmp:size=64m`), as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// Allocate a pseudo-terminal.
    #[serde(skip_serializing_if = "is_false")]
    pub tty: bool,
    /// Resource limits by name (`nofile`, `nproc`).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    /// User (and group) the command runs as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// UTS namespace: `host` shares the host's hostname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uts: Option<String>,
    /// Mounts, in long form.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Mount>,
    /// Mount all volumes of another service (`service[:ro]`) or `container:<id>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<String>,
    /// Working directory of the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Valid Compose attributes `stack` keeps but does not act on (a warning
    /// names each one), printed as written.
    #[serde(flatten)]
    pub unsupported: Extensions,
    /// `x-*` fields of the service.
    #[serde(flatten)]
    pub extensions: Extensions,
}

impl Service {
    fn limit<T>(&self, pick: impl Fn(&Resource) -> Option<T>) -> Option<T> {
        let deploy = self.deploy.as_ref()?.resources.as_ref()?.limits.as_ref()?;
        pick(deploy)
    }

    /// How many containers run: `scale`, else `deploy.replicas`, else 1.
    pub fn replicas(&self) -> u32 {
        self.scale
            .or_else(|| self.deploy.as_ref().and_then(|d| d.replicas))
            .unwrap_or(1)
    }

    /// The memory limit: `mem_limit`, else `deploy.resources.limits.memory`.
    pub fn memory_limit(&self) -> Option<Bytes> {
        self.mem_limit.or_else(|| self.limit(|r| r.memory))
    }

    /// The CPU limit in CPUs: `cpus`, else `deploy.resources.limits.cpus`.
    pub fn cpu_limit(&self) -> Option<f64> {
        self.cpus.or_else(|| self.limit(|r| r.cpus))
    }

    /// The process limit: `pids_limit`, else `deploy.resources.limits.pids`.
    pub fn pids_limit(&self) -> Option<i64> {
        self.pids_limit.or_else(|| self.limit(|r| r.pids))
    }
}

pub(super) fn serialize_extra_hosts<S: Serializer>(
    hosts: &IndexMap<String, Vec<String>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut list: Vec<String> = hosts
        .iter()
        .flat_map(|(host, ips)| ips.iter().map(move |ip| format!("{host}={ip}")))
        .collect();
    list.sort();
    s.collect_seq(list)
}

/// One `depends_on` entry (the list form means `service_started`, required).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DependsOn {
    /// What the dependency must reach before this service starts.
    pub condition: ServiceCondition,
    /// Restart this service when the dependency is restarted by Compose.
    #[serde(skip_serializing_if = "is_false")]
    pub restart: bool,
    /// When false, a missing or failed dependency only warns.
    pub required: bool,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

impl DependsOn {
    /// What `depends_on: [name]` means.
    pub fn started() -> Self {
        DependsOn {
            condition: ServiceCondition::ServiceStarted,
            restart: false,
            required: true,
            extensions: Extensions::new(),
        }
    }
}

/// `healthcheck:`; `test` is always a list (`["CMD", ...]`, `["CMD-SHELL", cmd]`, `["NONE"]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Healthcheck {
    /// The check command.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    /// How long one check may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Time between checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Consecutive failures before the container is unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// Grace time after start during which failures do not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<Duration>,
    /// Time between checks during the start period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<Duration>,
    /// Disable the image's health check.
    #[serde(skip_serializing_if = "is_false")]
    pub disable: bool,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

impl Healthcheck {
    /// No health check runs: `disable: true` or `test: ["NONE"]`.
    pub fn is_disabled(&self) -> bool {
        self.disable || self.test.first().is_some_and(|t| t == "NONE")
    }
}

/// `deploy:`; the Swarm-only parts are kept verbatim.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deploy {
    /// Swarm mode (`replicated`, `global`), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Number of containers; see also [`Service::replicas`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Labels of the Swarm service, kept as written.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    /// Swarm update configuration, kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_config: Option<serde_json::Value>,
    /// Swarm rollback configuration, kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<serde_json::Value>,
    /// Resource limits and reservations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Restart policy in deploy form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<DeployRestartPolicy>,
    /// Swarm placement, kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<serde_json::Value>,
    /// Swarm endpoint mode (`vip`, `dnsrr`), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_mode: Option<String>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `deploy.resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resources {
    /// Hard limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Resource>,
    /// Guaranteed resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resource>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `deploy.resources.limits` or `.reservations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resource {
    /// CPUs (`0.5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Bytes>,
    /// Processes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
    /// Device requests (GPUs), kept verbatim.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<serde_json::Value>,
    /// Swarm generic resources, kept verbatim.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generic_resources: Vec<serde_json::Value>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `deploy.restart_policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeployRestartPolicy {
    /// When to restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<RestartCondition>,
    /// Time between restart attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<Duration>,
    /// Restart attempts before giving up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    /// How long a restart must run to count as successful.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A device mapping, `/dev/a:/dev/b:rwm` in the short form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    /// Device path on the host.
    pub source: String,
    /// Device path in the container.
    pub target: String,
    /// Cgroup permissions (`rwm`), when not all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
}

/// One `env_file:` entry. Its contents are read by the loader, not here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvFile {
    /// Absolute path (relative ones are resolved against the project directory).
    pub path: String,
    /// When false, a missing file is ignored.
    pub required: bool,
    /// File format, when not the default `.env` syntax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// `logging:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Logging {
    /// Log driver, when not the engine default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Log driver options (`max-size`).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub options: StringMap,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A service's attachment to one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceNetwork {
    /// Extra DNS names of the service on this network.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Endpoint driver options.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    /// Which network provides the default gateway (highest wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gw_priority: Option<i64>,
    /// Interface name inside the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_name: Option<String>,
    /// Fixed IPv4 address on this network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    /// Fixed IPv6 address on this network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
    /// Link-local addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link_local_ips: Vec<String>,
    /// Fixed MAC address on this network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    /// Order in which the networks are connected (highest first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One published or exposed port, long form. A short range such as
/// `8000-8001:8000-8001` becomes one `Port` per port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Port {
    /// A human-readable name for the port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How the port is published.
    pub mode: PortMode,
    /// Host address to bind, all addresses when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// Container port.
    pub target: u16,
    /// The host port or range (`"8080"`, `"8000-8010"`); `None` lets the engine choose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Transport protocol.
    pub protocol: Protocol,
    /// Application protocol (`http`, `grpc`), informational.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A service's reference to a top-level secret or config.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileRef {
    /// The key under top-level `secrets:` / `configs:`.
    pub source: String,
    /// Path (or name under `/run/secrets`) inside the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Owner user id of the mounted file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Owner group id of the mounted file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// File mode bits (written in octal in compose files: `0440`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One `ulimits:` entry: a single value for both limits, or soft and hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Ulimit {
    /// The same soft and hard limit.
    Single(i64),
    /// Different soft and hard limits.
    Range {
        /// The limit processes get.
        soft: i64,
        /// The ceiling processes may raise it to.
        hard: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthcheck_disabled_either_way() {
        let mut h = Healthcheck::default();
        assert!(!h.is_disabled());
        h.test = vec!["NONE".into()];
        assert!(h.is_disabled());
        h = Healthcheck {
            disable: true,
            ..Healthcheck::default()
        };
        assert!(h.is_disabled());
    }

    #[test]
    fn limits_fall_back_to_deploy() {
        let mut s = Service::default();
        assert_eq!(
            (s.replicas(), s.memory_limit(), s.cpu_limit()),
            (1, None, None)
        );
        s.deploy = Some(Deploy {
            replicas: Some(3),
            resources: Some(Resources {
                limits: Some(Resource {
                    cpus: Some(0.5),
                    memory: Some(Bytes(1024)),
                    pids: Some(10),
                    ..Resource::default()
                }),
                ..Resources::default()
            }),
            ..Deploy::default()
        });
        assert_eq!(s.replicas(), 3);
        assert_eq!(s.memory_limit(), Some(Bytes(1024)));
        assert_eq!(s.cpu_limit(), Some(0.5));
        assert_eq!(s.pids_limit(), Some(10));
        s.scale = Some(2);
        s.mem_limit = Some(Bytes(2048));
        assert_eq!((s.replicas(), s.memory_limit()), (2, Some(Bytes(2048))));
    }
}
