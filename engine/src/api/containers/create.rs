//! `POST /containers/create`: checks the request (refusing by name every
//! option that is set and not supported), merges the image's defaults
//! into it as Docker does, prepares volumes, and records the container
//! with the launch description its monitor will run.

use std::collections::HashMap;
use std::time::SystemTime;

use bollard_stubs::models::{
    ContainerConfig, ContainerCreateBody, ContainerCreateResponse, EventMessageTypeEnum, HostConfig,
};
use hyper::{Response, StatusCode};
use serde_json::Value;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::mounts::{mount_point, mounts};
use super::resources::{self, Available};
use super::security;
use super::{devices, event_attributes};
use crate::container::init;
use crate::container::launch::LaunchSpec;
use crate::container::log_options::LogOptions;
use crate::container::names;
use crate::container::record::{command_line, ContainerRecord};
use crate::container::InsertError;
use crate::image::ImageError;
use crate::runtime::NamespaceMode;
use crate::state::time;

/// Top-level fields of the body that are honoured.
const SUPPORTED: &[&str] = &[
    "Image",
    "Cmd",
    "Entrypoint",
    "Env",
    "WorkingDir",
    "User",
    "Hostname",
    "Domainname",
    "Labels",
    "StopSignal",
    "StopTimeout",
    "HostConfig",
    "AttachStdout",
    "AttachStderr",
    "ExposedPorts",
    "Volumes",
    "NetworkingConfig",
    "Healthcheck",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "AttachStdin",
    // Moved to the endpoint of NetworkMode's network, as API 1.44 has it.
    "MacAddress",
];

/// `HostConfig` fields that are honoured.
const SUPPORTED_HOST: &[&str] = &[
    "Binds",
    "Mounts",
    "Tmpfs",
    "Memory",
    "NanoCpus",
    "PidsLimit",
    "AutoRemove",
    "ReadonlyRootfs",
    "CapAdd",
    "CapDrop",
    "Privileged",
    "NetworkMode",
    // Links become names the container resolves on its user-defined network.
    "Links",
    "VolumesFrom",
    "PortBindings",
    "PublishAllPorts",
    "Dns",
    "DnsSearch",
    "DnsOptions",
    "ExtraHosts",
    "RestartPolicy",
    "LogConfig",
    "ConsoleSize",
    "Init",
    "Ulimits",
    "SecurityOpt",
    "MemorySwap",
    "MemoryReservation",
    "MemorySwappiness",
    "CpuShares",
    "CpuQuota",
    "CpuPeriod",
    "CpusetCpus",
    "CpusetMems",
    "OomScoreAdj",
    "Sysctls",
    "GroupAdd",
    "IpcMode",
    "PidMode",
    "ShmSize",
    "Devices",
    "DeviceCgroupRules",
    "UTSMode",
    "CgroupnsMode",
];

/// Creates a container.
pub(crate) fn create(
    ctx: &Context,
    mut query: Query,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let name = query.take("name").filter(|n| !n.is_empty());
    query
        .take("platform")
        .filter(|p| !p.is_empty() && p != "linux" && !p.starts_with("linux/"))
        .map_or(Ok(()), |p| {
            Err(ApiError::bad_request(format!(
                "platform {p:?} is not supported: this engine runs linux containers"
            )))
        })?;
    query.finish()?;
    let body = parse_body(body)?;
    let image_ref = body
        .image
        .clone()
        .filter(|i| !i.is_empty())
        .ok_or_else(|| ApiError::bad_request("config.Image is required: name the image to run"))?;
    let image = ctx.images.inspect(&image_ref).map_err(|e| match e {
        ImageError::NotFound(_) => ApiError::not_found(format!("No such image: {image_ref}")),
        other => ApiError::internal(super::super::chain(&other)),
    })?;
    let layers = ctx
        .images
        .layer_dirs(&image.summary.id)
        .map_err(|e| ApiError::internal(super::super::chain(&e)))?;
    let mut host = body.host_config.clone().unwrap_or_default();
    let log = log_options(&host)?;
    let security = security::security_options(host.security_opt.as_deref().unwrap_or_default())?;
    let ulimits = security::ulimits(host.ulimits.as_deref().unwrap_or_default())?;
    super::restart_policy::check(&host)?;
    let init = (host.init == Some(true))
        .then(|| init::find(ctx.init_path.as_deref(), init::CANDIDATES))
        .transpose()
        .map_err(ApiError::bad_request)?;
    let id = names::new_id().map_err(|e| ApiError::internal(e.to_string()))?;
    let name = match name {
        Some(name) => names::validate(&name).map_err(ApiError::bad_request)?,
        None => names::generate(|n| ctx.containers.id_of_name(n).is_some())
            .map_err(|e| ApiError::internal(e.to_string()))?,
    };
    if let Some(holder) = ctx.containers.id_of_name(&name) {
        return Err(ApiError::conflict(
            InsertError::NameTaken { name, id: holder }.to_string(),
        ));
    }

    let image_config = image.config.config().clone().unwrap_or_default();
    let mut config: ContainerConfig = serde_json::to_value(&body)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::internal(format!("cannot copy the configuration: {e}")))?;
    // Docker's rule: an entrypoint given without a command drops the image's command.
    if config.cmd.as_ref().is_none_or(Vec::is_empty)
        && config.entrypoint.as_ref().is_none_or(Vec::is_empty)
    {
        config.cmd = image_config.cmd().clone();
    }
    if config.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        config.entrypoint = image_config.entrypoint().clone();
    }
    config.env = Some(merge_env(
        image_config.env().as_deref().unwrap_or_default(),
        body.env.as_deref().unwrap_or_default(),
    ));
    if config.working_dir.as_deref().is_none_or(str::is_empty) {
        config.working_dir = image_config.working_dir().clone();
    }
    if config.user.as_deref().is_none_or(str::is_empty) {
        config.user = image_config.user().clone();
    }
    if config.stop_signal.as_deref().is_none_or(str::is_empty) {
        config.stop_signal = image_config.stop_signal().clone();
    }
    let mut labels: HashMap<String, String> = image_config.labels().clone().unwrap_or_default();
    labels.extend(body.labels.clone().unwrap_or_default());
    config.labels = Some(labels);
    let uts_host = uts_host(&host, &config)?;
    if uts_host {
        // The host's name is the container's, as the kernel reports it.
        config.hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_owned());
    }
    if config.hostname.as_deref().is_none_or(str::is_empty) {
        config.hostname = Some(id[..12].to_owned());
    }
    config.image = Some(image_ref.clone());
    config.healthcheck =
        super::healthcheck::merged_config(body.healthcheck.clone(), &image.raw_config)?;
    let args = command_line(&config);
    if args.is_empty() {
        return Err(ApiError::bad_request(
            "no command specified: give one, or use an image with a CMD or ENTRYPOINT",
        ));
    }
    if let Some(signal) = config.stop_signal.as_deref() {
        super::parse_signal(signal)?;
    }

    let mut record_volumes = Vec::new();
    let mut anonymous = Vec::new();
    // Docker's anonymous volumes: the image's VOLUMEs and the request's
    // `Volumes` (`docker run -v /path`), where nothing else is mounted.
    let declared: Vec<String> = image_config
        .volumes()
        .iter()
        .flatten()
        .chain(body.volumes.iter().flatten())
        .cloned()
        .collect();
    let endpoints = ctx
        .networks
        .endpoints_for_create(&host, body.networking_config.as_ref(), &|reference| {
            ctx.containers
                .get(reference)
                .ok()
                .map(|e| e.record.id.clone())
        })
        .map_err(super::super::networks::net_error)?;
    // Published ports need a network namespace of the container's own.
    if endpoints.mode == crate::network::record::Mode::Bridge {
        ctx.networks
            .check_ports(&host, config.exposed_ports.as_deref().unwrap_or_default())
            .map_err(super::super::networks::net_error)?;
    }
    // For the sysctl checks, another container's namespace is as shared as the host's.
    let net = match &endpoints.mode {
        crate::network::record::Mode::Host | crate::network::record::Mode::Container(_) => {
            NamespaceMode::Host
        }
        _ => NamespaceMode::Private,
    };
    let container_id =
        |reference: &str| super::lookup(ctx, reference).map(|entry| entry.record.id.clone());
    let settings = resources::settings(&host, net, &Available::read(), &container_id)?;
    let mounts = mounts(ctx, &host, &declared, &mut record_volumes, &mut anonymous)?;
    let launch = LaunchSpec {
        layers,
        args,
        env: config.env.clone().unwrap_or_default(),
        cwd: config.working_dir.clone().unwrap_or_default(),
        user: config.user.clone().unwrap_or_default(),
        hostname: config.hostname.clone().unwrap_or_default(),
        read_only: host.readonly_rootfs.unwrap_or(false),
        mounts,
        cap_add: host.cap_add.clone().unwrap_or_default(),
        cap_drop: host.cap_drop.clone().unwrap_or_default(),
        privileged: host.privileged.unwrap_or(false),
        memory: host.memory,
        nano_cpus: host.nano_cpus,
        pids_limit: host.pids_limit,
        tty: config.tty.unwrap_or(false),
        open_stdin: config.open_stdin.unwrap_or(false),
        stdin_once: config.stdin_once.unwrap_or(false),
        console_size: crate::runtime::console_size(host.console_size.as_deref()),
        init,
        log,
        ulimits,
        seccomp: security.seccomp,
        no_new_privileges: security.no_new_privileges,
        limits: settings.limits,
        sysctls: settings.sysctls,
        group_add: settings.group_add,
        ipc: settings.ipc,
        pid: settings.pid,
        shm_size: settings.shm_size,
        domainname: config.domainname.clone().unwrap_or_default(),
        uts_host,
        cgroupns_host: cgroupns_host(&host),
        devices: devices::devices(host.devices.as_deref().unwrap_or_default())?,
        device_cgroup_rules: devices::cgroup_rules(
            host.device_cgroup_rules.as_deref().unwrap_or_default(),
        )?,
    };
    resources::adapt(&mut host);
    let now = SystemTime::now();
    let record = ContainerRecord {
        id: id.clone(),
        name,
        created: time::rfc3339_nanos(now),
        created_unix: time::unix_nanos(now) / 1_000_000_000,
        image: image_ref,
        image_id: format!("sha256:{}", image.summary.id.hex()),
        config,
        host_config: host,
        anonymous_volumes: anonymous,
        volumes: record_volumes,
        mounts: launch.mounts.iter().map(mount_point).collect(),
    };
    let endpoints = ctx
        .networks
        .endpoints_record(&id, &endpoints)
        .map_err(super::super::networks::net_error)?;
    let entry = ctx
        .containers
        .insert(record, &launch, vec![endpoints])
        .map_err(|e| match e {
            InsertError::NameTaken { .. } => ApiError::conflict(e.to_string()),
            InsertError::Io(_) => ApiError::internal(super::super::chain(&e)),
        })?;
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "create",
        &id,
        event_attributes(&entry),
    );
    Ok(reply::json(
        StatusCode::CREATED,
        &ContainerCreateResponse {
            id,
            warnings: vec![],
        },
    ))
}

/// Parses the body, refusing fields that are set and not supported.
/// `HostConfig.UTSMode`: empty for a UTS namespace of the container's
/// own, `host` for the host's, where the container can set neither a
/// hostname nor a domain name of its own.
fn uts_host(host: &HostConfig, config: &ContainerConfig) -> Result<bool, ApiError> {
    match host.uts_mode.as_deref().unwrap_or_default() {
        "" => Ok(false),
        "host" => {
            let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
            if given(&config.hostname) || given(&config.domainname) {
                return Err(ApiError::bad_request(
                    "Conflicting options: a hostname or domain name and the UTS mode host: leave out one of them",
                ));
            }
            Ok(true)
        }
        other => Err(ApiError::bad_request(format!(
            "HostConfig.UTSMode {other:?} is not supported: use host, or leave it empty for a UTS namespace of the container's own"
        ))),
    }
}

/// `HostConfig.CgroupnsMode`: `private` (or empty, this engine's default
/// on cgroup v1 and v2 alike) for a cgroup namespace of the container's
/// own, `host` for the host's view of the cgroup tree.
fn cgroupns_host(host: &HostConfig) -> bool {
    host.cgroupns_mode == Some(bollard_stubs::models::HostConfigCgroupnsModeEnum::HOST)
}

fn parse_body(bytes: &[u8]) -> Result<ContainerCreateBody, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON in the request body: {e}")))?;
    let Value::Object(fields) = &value else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    check_fields(fields, "", SUPPORTED)?;
    if let Some(Value::Object(host)) = fields.get("HostConfig") {
        check_fields(host, "HostConfig.", SUPPORTED_HOST)?;
    }
    let mut value = value;
    move_legacy_mac(&mut value);
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// Moves the container-wide `MacAddress` of clients before API 1.44 to
/// the endpoint of the network of `NetworkMode`, where the newer API has
/// it (as Docker's daemon does), unless that endpoint has one already.
fn move_legacy_mac(value: &mut Value) {
    let Value::Object(fields) = value else {
        return;
    };
    let mac = match fields.remove("MacAddress") {
        Some(Value::String(mac)) if !mac.is_empty() => mac,
        _ => return,
    };
    let network = match fields.get("HostConfig").and_then(|h| h.get("NetworkMode")) {
        Some(Value::String(mode)) if !mode.is_empty() && mode != "default" => mode.clone(),
        _ => "bridge".to_owned(),
    };
    let endpoint = fields
        .entry("NetworkingConfig")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(endpoints) = endpoint
        .as_object_mut()
        .map(|n| {
            n.entry("EndpointsConfig")
                .or_insert_with(|| Value::Object(Default::default()))
        })
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let settings = endpoints
        .entry(network)
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(settings) = settings.as_object_mut() {
        settings
            .entry("MacAddress")
            .and_modify(|m| {
                if m.as_str().is_none_or(str::is_empty) {
                    *m = Value::String(mac.clone());
                }
            })
            .or_insert_with(|| Value::String(mac.clone()));
    }
}

/// The log settings of `HostConfig.LogConfig`; unsupported ones are refused.
fn log_options(host: &HostConfig) -> Result<LogOptions, ApiError> {
    let config = host.log_config.as_ref();
    LogOptions::from_request(
        config.and_then(|c| c.typ.as_deref()),
        config.and_then(|c| c.config.as_ref()),
    )
    .map_err(ApiError::bad_request)
}

/// Refuses every field outside `supported` whose value is not a zero value.
fn check_fields(
    fields: &serde_json::Map<String, Value>,
    prefix: &str,
    supported: &[&str],
) -> Result<(), ApiError> {
    for (key, value) in fields {
        // -1 is how clients say "the kernel's default swappiness".
        let default = key == "MemorySwappiness" && value.as_i64() == Some(-1);
        if !supported.contains(&key.as_str()) && !is_zero(value) && !default {
            return Err(ApiError::bad_request(format!(
                "{prefix}{key} is not supported yet by the stack engine (set to {value})"
            )));
        }
    }
    Ok(())
}

/// Whether a JSON value is what clients send for "not set": null, false,
/// 0, "", or containers of such values only.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.iter().all(is_zero),
        Value::Object(map) => map.values().all(is_zero),
    }
}

/// The image's environment with the request's entries replacing those of the same name.
fn merge_env(image: &[String], request: &[String]) -> Vec<String> {
    let key = |entry: &String| entry.split('=').next().unwrap_or_default().to_owned();
    let mut merged: Vec<String> = image
        .iter()
        .filter(|entry| !request.iter().any(|r| key(r) == key(entry)))
        .cloned()
        .collect();
    merged.extend(request.iter().cloned());
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_values_of_unsupported_fields_pass_and_set_ones_are_named() {
        let body = br#"{"Image":"busybox","Tty":false,"OpenStdin":false,"Volumes":{},"HostConfig":{"NetworkMode":"default","CpuShares":0,"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"ConsoleSize":[0,0]}}"#;
        assert_eq!(parse_body(body).unwrap().image.as_deref(), Some("busybox"));
        let err = parse_body(br#"{"Image":"b","Shell":["/bin/bash","-c"]}"#).unwrap_err();
        assert!(
            err.message.contains("Shell is not supported"),
            "{}",
            err.message
        );
        let err = parse_body(br#"{"Image":"b","HostConfig":{"OomKillDisable":true}}"#).unwrap_err();
        assert!(
            err.message.contains("HostConfig.OomKillDisable"),
            "{}",
            err.message
        );
        let err = parse_body(br#"{"Image":"b","HostConfig":{"Isolation":"hyperv"}}"#).unwrap_err();
        assert!(err.message.contains("Isolation"), "{}", err.message);
        let err = parse_body(br#"{"Image":"b","HostConfig":{"Runtime":"x"}}"#).unwrap_err();
        assert!(
            err.message.contains("HostConfig.Runtime"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_hosts_uts_namespace_takes_no_name_of_the_containers() {
        let host = |mode: &str| HostConfig {
            uts_mode: Some(mode.to_owned()),
            ..HostConfig::default()
        };
        let named = ContainerConfig {
            hostname: Some("web".to_owned()),
            ..ContainerConfig::default()
        };
        assert!(!uts_host(&host(""), &named).unwrap());
        assert!(uts_host(&host("host"), &ContainerConfig::default()).unwrap());
        let conflict = uts_host(&host("host"), &named).unwrap_err().message;
        assert!(conflict.starts_with("Conflicting options"), "{conflict}");
        let other = uts_host(&host("private"), &named).unwrap_err().message;
        assert!(other.contains("HostConfig.UTSMode \"private\""), "{other}");
    }

    #[test]
    fn a_container_wide_mac_address_moves_to_the_network_of_network_mode() {
        let mac_of = |body: &[u8], network: &str| {
            let body = parse_body(body).unwrap();
            let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
            endpoints[network].mac_address.clone()
        };
        let mac = Some("02:42:ac:11:00:02".to_owned());
        assert_eq!(
            mac_of(
                br#"{"Image":"b","MacAddress":"02:42:ac:11:00:02"}"#,
                "bridge"
            ),
            mac
        );
        let body = br#"{"Image":"b","MacAddress":"02:42:ac:11:00:02","HostConfig":{"NetworkMode":"front"},"NetworkingConfig":{"EndpointsConfig":{"front":{"Aliases":["web"]}}}}"#;
        assert_eq!(mac_of(body, "front"), mac);
        // The endpoint's own wins.
        let body = br#"{"Image":"b","MacAddress":"02:42:ac:11:00:02","NetworkingConfig":{"EndpointsConfig":{"bridge":{"MacAddress":"02:00:00:00:00:01"}}}}"#;
        assert_eq!(mac_of(body, "bridge").as_deref(), Some("02:00:00:00:00:01"));
        let plain = parse_body(br#"{"Image":"b","MacAddress":""}"#).unwrap();
        assert!(plain.networking_config.is_none());
    }

    #[test]
    fn request_env_overrides_the_images() {
        let image = ["PATH=/bin".to_owned(), "A=1".to_owned()];
        let request = ["A=2".to_owned(), "B=3".to_owned()];
        assert_eq!(merge_env(&image, &request), ["PATH=/bin", "A=2", "B=3"]);
    }
}
