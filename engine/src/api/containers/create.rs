//! `POST /containers/create`: checks the request (refusing by name every
//! option that is set and not supported), merges the image's defaults
//! into it as Docker does, prepares volumes, and records the container
//! with the launch description its monitor will run.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use bollard_stubs::models::{
    ContainerConfig, ContainerCreateBody, ContainerCreateResponse, EventMessageTypeEnum,
    HostConfig, MountPoint, MountType,
};
use hyper::{Response, StatusCode};
use serde_json::Value;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::event_attributes;
use super::resources::{self, Available};
use super::security;
use super::volumes_from::VolumesFrom;
use crate::container::init;
use crate::container::launch::{LaunchMount, LaunchMountKind, LaunchSpec};
use crate::container::log_options::LogOptions;
use crate::container::names;
use crate::container::record::{command_line, ContainerRecord};
use crate::container::InsertError;
use crate::image::ImageError;
use crate::runtime::NamespaceMode;
use crate::state::time;
use crate::volume::VolumeName;

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
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
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

/// The launch mounts for `Binds`, `Mounts` and `Tmpfs`, then an anonymous
/// volume at each `declared` target nothing else mounts; named volumes are
/// created when missing (as Docker does) and listed in `named`, anonymous
/// ones are created and listed in `anonymous`.
fn mounts(
    ctx: &Context,
    host: &HostConfig,
    declared: &[String],
    named: &mut Vec<String>,
    anonymous: &mut Vec<String>,
) -> Result<Vec<LaunchMount>, ApiError> {
    let mut out = Vec::new();
    let mut volume = |source: &str, field: &str| -> Result<(Option<String>, String), ApiError> {
        let name = if source.is_empty() {
            None
        } else {
            Some(
                VolumeName::parse(source)
                    .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))?,
            )
        };
        let (record, _) = ctx
            .volumes
            .create(name.clone(), BTreeMap::new())
            .map_err(|e| ApiError::internal(super::super::chain(&e)))?;
        let list = if name.is_some() {
            &mut *named
        } else {
            &mut *anonymous
        };
        list.push(record.name.as_str().to_owned());
        Ok((
            Some(record.name.as_str().to_owned()),
            ctx.volumes.mountpoint(&record.name).display().to_string(),
        ))
    };
    for bind in host.binds.iter().flatten() {
        let field = format!("HostConfig.Binds {bind:?}");
        let parts: Vec<&str> = bind.split(':').collect();
        let (source, target, options) = match parts.as_slice() {
            [target] => ("", *target, ""),
            [source, target] => (*source, *target, ""),
            [source, target, options] => (*source, *target, *options),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "{field}: expected SOURCE:TARGET[:OPTIONS]"
                )))
            }
        };
        let mut read_only = false;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option {
                "ro" => read_only = true,
                "rw" => read_only = false,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "{field}: option {other:?} is not supported yet (ro, rw)"
                    )))
                }
            }
        }
        if !target.starts_with('/') {
            return Err(ApiError::bad_request(format!(
                "{field}: the target must be an absolute path"
            )));
        }
        let (kind, source, name) = if source.starts_with('/') {
            if !std::path::Path::new(source).exists() {
                return Err(ApiError::bad_request(format!(
                    "{field}: bind source path does not exist: {source}"
                )));
            }
            (LaunchMountKind::Bind, source.to_owned(), None)
        } else {
            let (name, path) = volume(source, &field)?;
            (LaunchMountKind::Volume, path, name)
        };
        out.push(LaunchMount {
            target: target.to_owned(),
            source,
            kind,
            read_only,
            size: None,
            mode: None,
            name,
        });
    }
    for mount in host.mounts.iter().flatten() {
        let target = mount.target.clone().unwrap_or_default();
        let field = format!("HostConfig.Mounts target {target:?}");
        if !target.starts_with('/') {
            return Err(ApiError::bad_request(format!(
                "{field}: the target must be an absolute path"
            )));
        }
        let source = mount.source.clone().unwrap_or_default();
        let read_only = mount.read_only.unwrap_or(false);
        let mut name = None;
        let (kind, source, size, mode) = match mount.typ {
            Some(MountType::BIND) => (LaunchMountKind::Bind, source, None, None),
            Some(MountType::VOLUME) | None => {
                let (volume_name, path) = volume(&source, &field)?;
                name = volume_name;
                (LaunchMountKind::Volume, path, None, None)
            }
            Some(MountType::TMPFS) => {
                let options = mount.tmpfs_options.clone().unwrap_or_default();
                let size = options
                    .size_bytes
                    .and_then(|s| u64::try_from(s).ok())
                    .filter(|s| *s > 0);
                let mode = options
                    .mode
                    .and_then(|m| u32::try_from(m).ok())
                    .filter(|m| *m > 0);
                (LaunchMountKind::Tmpfs, String::new(), size, mode)
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "{field}: mount type {other} is not supported yet (bind, volume, tmpfs)"
                )))
            }
        };
        out.push(LaunchMount {
            target,
            source,
            kind,
            read_only,
            size,
            mode,
            name,
        });
    }
    for (target, options) in host.tmpfs.iter().flatten() {
        let field = format!("HostConfig.Tmpfs {target:?}");
        let (mut size, mut mode, mut read_only) = (None, None, false);
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option.split_once('=') {
                Some(("size", value)) => {
                    size = Some(parse_size(value).ok_or_else(|| {
                        ApiError::bad_request(format!("{field}: invalid size {value:?}"))
                    })?)
                }
                Some(("mode", value)) => {
                    mode = Some(u32::from_str_radix(value, 8).map_err(|_| {
                        ApiError::bad_request(format!("{field}: invalid mode {value:?}"))
                    })?)
                }
                None if option == "ro" => read_only = true,
                None if matches!(option, "rw" | "nosuid" | "nodev" | "noexec") => {}
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "{field}: option {option:?} is not supported yet (size, mode, ro)"
                    )))
                }
            }
        }
        out.push(LaunchMount {
            target: target.clone(),
            source: String::new(),
            kind: LaunchMountKind::Tmpfs,
            read_only,
            size,
            mode,
            name: None,
        });
    }
    // Volumes of other containers come after the container's own mounts
    // (which win at a shared target) and before the image's declared
    // volumes (which they then provide).
    let mut shared = Vec::new();
    for text in host.volumes_from.iter().flatten() {
        let entry = VolumesFrom::parse(text).map_err(ApiError::bad_request)?;
        let source = super::lookup(ctx, entry.container).map_err(|e| ApiError {
            status: e.status,
            message: format!("HostConfig.VolumesFrom: {}", e.message),
        })?;
        let taken: Vec<String> = out.iter().map(|m| m.target.clone()).collect();
        for mount in entry.mounts(&source.record.mounts, &taken) {
            shared.extend(mount.name.clone());
            out.push(mount);
        }
    }
    for target in declared {
        if out.iter().any(|m| m.target == *target) {
            continue;
        }
        let field = format!("Volumes {target:?}");
        if !target.starts_with('/') {
            return Err(ApiError::bad_request(format!(
                "{field}: the target must be an absolute path"
            )));
        }
        let (name, source) = volume("", &field)?;
        out.push(LaunchMount {
            target: target.clone(),
            source,
            kind: LaunchMountKind::Volume,
            read_only: false,
            size: None,
            mode: None,
            name,
        });
    }
    // Shared volumes are in use by this container too (never removed with it).
    named.extend(shared);
    Ok(out)
}

/// How inspect shows a mount.
fn mount_point(mount: &LaunchMount) -> MountPoint {
    let typ = match mount.kind {
        LaunchMountKind::Bind => "bind",
        LaunchMountKind::Volume => "volume",
        LaunchMountKind::Tmpfs => "tmpfs",
    };
    MountPoint {
        typ: Some(typ.to_owned()),
        name: mount.name.clone(),
        source: Some(mount.source.clone()),
        destination: Some(mount.target.clone()),
        driver: mount.name.as_ref().map(|_| "local".to_owned()),
        mode: Some(if mount.read_only { "ro" } else { "" }.to_owned()),
        rw: Some(!mount.read_only),
        propagation: Some(String::new()),
    }
}

/// `64m`, `1g`, `1024`: bytes.
fn parse_size(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let (digits, unit) = match lower.trim_end_matches('b').char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&lower[..i], c),
        _ => (lower.trim_end_matches('b'), ' '),
    };
    let multiplier = match unit {
        ' ' => 1,
        'k' => 1 << 10,
        'm' => 1 << 20,
        'g' => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_values_of_unsupported_fields_pass_and_set_ones_are_named() {
        let body = br#"{"Image":"busybox","Tty":false,"OpenStdin":false,"Volumes":{},"HostConfig":{"NetworkMode":"default","CpuShares":0,"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"ConsoleSize":[0,0]}}"#;
        assert_eq!(parse_body(body).unwrap().image.as_deref(), Some("busybox"));
        let err = parse_body(br#"{"Image":"b","MacAddress":"02:42:ac:11:00:02"}"#).unwrap_err();
        assert!(
            err.message.contains("MacAddress is not supported"),
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
    fn request_env_overrides_the_images() {
        let image = ["PATH=/bin".to_owned(), "A=1".to_owned()];
        let request = ["A=2".to_owned(), "B=3".to_owned()];
        assert_eq!(merge_env(&image, &request), ["PATH=/bin", "A=2", "B=3"]);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("12kb"), Some(12 << 10));
        assert_eq!(parse_size("x"), None);
    }
}
