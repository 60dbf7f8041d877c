//! One service of a project, every attribute in its normalized (long) form.

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

fn is_false(b: &bool) -> bool {
    !*b
}

/// A service as `docker compose config` shows it. Attributes Compose accepts
/// but `stack` does not model are kept verbatim in `unsupported`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Service {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// `None` when not set (the image's `CMD` applies); `Some([])` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<FileRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    /// Dependencies by service name, in file order.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub depends_on: IndexMap<String, DependsOn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// `None` when not set (the image's `ENTRYPOINT` applies); `Some([])` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<EnvFile>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub environment: Environment,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    /// Host name → addresses; printed as a sorted list of `host=ip`.
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        serialize_with = "serialize_extra_hosts"
    )]
    pub extra_hosts: IndexMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memswap_limit: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<NetworkMode>,
    /// Networks by key; `None` (printed `null`) means attached with no options.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, Option<ServiceNetwork>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<FileRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Bytes>,
    #[serde(skip_serializing_if = "is_false")]
    pub stdin_open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub sysctls: StringMap,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub tty: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Mount>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<String>,
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

fn serialize_extra_hosts<S: Serializer>(
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

/// `build:`; the short form `build: ./dir` is `context: <abs dir>`, `dockerfile: Dockerfile`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Build {
    /// An absolute directory, or a URL (git, http) kept as written.
    pub context: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub args: Environment,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_to: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub no_cache: bool,
    /// Named contexts: absolute directories, or references kept as written
    /// (`docker-image://`, `service:`, URLs).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub additional_contexts: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Bytes>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        serialize_with = "serialize_extra_hosts"
    )]
    pub extra_hosts: IndexMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<FileRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub pull: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<String>,
    /// Provenance attestation: `true`, `false` or BuildKit's `mode=max` form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    /// SBOM attestation: `true`, `false` or a generator setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom: Option<String>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One `depends_on` entry (the list form means `service_started`, required).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DependsOn {
    pub condition: ServiceCondition,
    /// Restart this service when the dependency is restarted by Compose.
    #[serde(skip_serializing_if = "is_false")]
    pub restart: bool,
    /// When false, a missing or failed dependency only warns.
    pub required: bool,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<Duration>,
    #[serde(skip_serializing_if = "is_false")]
    pub disable: bool,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `deploy:`; the Swarm-only parts are kept verbatim.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_config: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<DeployRestartPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_mode: Option<String>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `deploy.resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resource>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `deploy.resources.limits` or `.reservations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
    /// Device requests (GPUs), kept verbatim.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generic_resources: Vec<serde_json::Value>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `deploy.restart_policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeployRestartPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<RestartCondition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A device mapping, `/dev/a:/dev/b:rwm` in the short form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub source: String,
    pub target: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// `logging:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Logging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub options: StringMap,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A service's attachment to one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceNetwork {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gw_priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link_local_ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One published or exposed port, long form. A short range such as
/// `8000-8001:8000-8001` becomes one `Port` per port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Port {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub mode: PortMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    pub target: u16,
    /// The host port or range (`"8080"`, `"8000-8010"`); `None` lets the engine choose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub protocol: Protocol,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A service's reference to a top-level secret or config.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileRef {
    /// The key under top-level `secrets:` / `configs:`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// File mode bits (written in octal in compose files: `0440`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One `ulimits:` entry: a single value for both limits, or soft and hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Ulimit {
    Single(i64),
    Range { soft: i64, hard: i64 },
}

#[cfg(test)]
mod tests {
    use super::*;

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
