//! Pure translation of a [`ContainerConfig`] into an OCI runtime spec with
//! Docker's defaults: 14 capabilities, the default seccomp profile, masked and
//! read-only paths, the standard mounts and devices, the default device cgroup
//! rules, private pid/net/ipc/uts/cgroup/mount namespaces, and `privileged`
//! turning the confinement off as Docker does.
//!
//! Every check runs before anything is built and all problems are returned
//! together, so a caller can report them at once. Two small adjustments for
//! host facts ([`restrict_capabilities`], [`drop_swap_limit`]) are separate
//! functions, applied by `run` after reading the host.

mod checks;
mod linux;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use oci_spec::runtime::{
    Capabilities, LinuxCapabilities, Mount, PosixRlimit, Process, Root, Spec, User as OciUser,
};

use super::config::{ContainerConfig, MountKind, NamespaceMode};
use super::defaults::{ALL_CAPABILITIES, DEFAULT_PATH, STANDARD_MOUNTS};
use super::error::{ConfigError, ConfigErrors};
use super::seccomp::Platform;

pub use checks::{check_sysctl, check_ulimit};

/// The OCI runtime-spec version written into `config.json`.
const OCI_VERSION: &str = "1.0.2";

/// Builds the runtime spec for `config` on `platform` (which decides the
/// seccomp architectures), or every reason it cannot be built.
pub fn build(config: &ContainerConfig, platform: Platform) -> Result<Spec, ConfigErrors> {
    let mut errors = Vec::new();
    checks::check_paths(config, &mut errors);
    checks::check_resources(&config.resources, &mut errors);
    let capabilities = checks::capabilities(config, &mut errors);
    let rlimits = checks::rlimits(&config.ulimits, &mut errors);
    let sysctls = checks::sysctls(config, &mut errors);
    let hostname = hostname(config, &mut errors);
    let domainname = domainname(config, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }

    let mut spec = Spec::default();
    spec.set_version(OCI_VERSION.to_owned())
        .set_hostname(hostname)
        .set_domainname(domainname)
        .set_annotations(None)
        .set_hooks(None)
        .set_root(Some(root(config)))
        .set_mounts(Some(mounts(config)))
        .set_process(Some(process(config, &capabilities, rlimits)))
        .set_linux(Some(linux::linux(config, &capabilities, sysctls, platform)));
    Ok(spec)
}

/// The capabilities whose bits are set in a `/proc/<pid>/status` mask
/// such as `CapBnd: 000001fffeffffff`.
pub fn capabilities_from_mask(mask: u64) -> Capabilities {
    ALL_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, cap)| *cap)
        .collect()
}

/// Removes from every capability set of `spec` what is not in `available`.
/// A container can never hold a capability the engine itself lacks (the
/// kernel refuses to grant it), so `privileged` and `cap_add: [ALL]` mean
/// "everything the engine has", as on a host whose root is itself confined.
pub fn restrict_capabilities(spec: &mut Spec, available: &Capabilities) {
    let Some(process) = spec.process_mut().as_mut() else {
        return;
    };
    let Some(mut caps) = process.capabilities().clone() else {
        return;
    };
    let keep = |set: &Option<Capabilities>| {
        set.as_ref()
            .map(|set| set.intersection(available).copied().collect())
    };
    let (bounding, effective) = (keep(caps.bounding()), keep(caps.effective()));
    let (permitted, inheritable) = (keep(caps.permitted()), keep(caps.inheritable()));
    let ambient = keep(caps.ambient());
    caps.set_bounding(bounding)
        .set_effective(effective)
        .set_permitted(permitted)
        .set_inheritable(inheritable)
        .set_ambient(ambient);
    process.set_capabilities(Some(caps));
}

/// Removes the memory-plus-swap limit, for hosts that cannot enforce one.
pub fn drop_swap_limit(spec: &mut Spec) {
    let memory = spec
        .linux_mut()
        .as_mut()
        .and_then(|linux| linux.resources_mut().as_mut())
        .and_then(|resources| resources.memory_mut().as_mut());
    if let Some(memory) = memory {
        memory.set_swap(None);
    }
}

fn hostname(config: &ContainerConfig, errors: &mut Vec<ConfigError>) -> Option<String> {
    match (&config.namespaces.uts, &config.hostname) {
        (NamespaceMode::Private, hostname) => hostname.clone(),
        (_, Some(hostname)) => {
            errors.push(ConfigError::HostnameWithHostUts(hostname.clone()));
            None
        }
        (_, None) => None,
    }
}

fn domainname(config: &ContainerConfig, errors: &mut Vec<ConfigError>) -> Option<String> {
    match (&config.namespaces.uts, &config.domainname) {
        (NamespaceMode::Private, domainname) => domainname.clone(),
        (_, Some(domainname)) => {
            errors.push(ConfigError::DomainnameWithHostUts(domainname.clone()));
            None
        }
        (_, None) => None,
    }
}

fn root(config: &ContainerConfig) -> Root {
    let mut root = Root::default();
    root.set_path(config.rootfs.clone())
        .set_readonly(Some(config.read_only_rootfs));
    root
}

fn process(
    config: &ContainerConfig,
    capabilities: &Capabilities,
    rlimits: Vec<PosixRlimit>,
) -> Process {
    let mut user = OciUser::default();
    user.set_uid(config.user.uid)
        .set_gid(config.user.gid)
        .set_additional_gids(Some(config.user.additional_gids.clone()))
        .set_umask(None)
        .set_username(None);

    // Docker gives bounding, effective and permitted sets; the inheritable and
    // ambient sets stay empty so that an exec'd file capability cannot
    // regain what was dropped (CVE-2022-24769).
    let mut caps = LinuxCapabilities::default();
    caps.set_bounding(Some(capabilities.clone()))
        .set_effective(Some(capabilities.clone()))
        .set_permitted(Some(capabilities.clone()))
        .set_inheritable(Some(Default::default()))
        .set_ambient(Some(Default::default()));

    let mut env = config.env.clone();
    if !env.iter().any(|entry| entry.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.to_owned());
    }
    let cwd = if config.cwd.as_os_str().is_empty() {
        PathBuf::from("/")
    } else {
        config.cwd.clone()
    };

    let mut process = Process::default();
    process
        .set_terminal(Some(config.tty))
        .set_user(user)
        .set_args(Some(config.args.clone()))
        .set_env(Some(env))
        .set_cwd(cwd)
        .set_capabilities(Some(caps))
        .set_rlimits(Some(rlimits))
        // libcontainer loads the seccomp filter while still privileged only
        // when this field is absent; `Some(false)` would make it load the
        // filter after dropping capabilities, which the kernel refuses.
        .set_no_new_privileges(config.no_new_privileges.then_some(true))
        .set_oom_score_adj(config.oom_score_adj)
        .set_apparmor_profile(None)
        .set_selinux_label(None);
    process
}

/// The standard mounts (minus those a user mount replaces), then the user's
/// mounts in their order.
fn mounts(config: &ContainerConfig) -> Vec<Mount> {
    let replaced = |destination: &str| {
        config
            .mounts
            .iter()
            .any(|user| std::path::Path::new(destination).starts_with(&user.target))
    };
    let share_host_ipc = config.namespaces.ipc != NamespaceMode::Private;
    let mut mounts = Vec::new();
    for standard in &STANDARD_MOUNTS {
        if replaced(standard.destination) || (config.no_shm && standard.destination == "/dev/shm") {
            continue;
        }
        let mut options: Vec<String> = standard.options.iter().map(|o| o.to_string()).collect();
        let (typ, source) = if share_host_ipc && standard.destination == "/dev/shm" {
            // Sharing an IPC namespace means sharing its POSIX shared memory,
            // which lives in the host's /dev/shm: Docker binds it.
            options = ["rbind", "nosuid", "noexec", "nodev"]
                .map(String::from)
                .to_vec();
            ("bind", "/dev/shm")
        } else {
            (standard.typ, standard.source)
        };
        if let Some(size) = config
            .shm_size
            .filter(|_| standard.destination == "/dev/shm")
        {
            for option in options.iter_mut().filter(|o| o.starts_with("size=")) {
                *option = format!("size={size}");
            }
        }
        if config.privileged {
            // A privileged container gets a writable /sys and cgroup tree.
            options.retain(|option| option != "ro");
        }
        mounts.push(mount(
            standard.destination.into(),
            typ,
            source.into(),
            options,
        ));
    }
    for user in &config.mounts {
        let (typ, source, mut options) = match &user.kind {
            MountKind::Bind { source } | MountKind::Volume { source } => (
                "bind",
                source.clone(),
                vec!["rbind".to_owned(), "rprivate".to_owned()],
            ),
            MountKind::Tmpfs { size, mode } => {
                let mut options: Vec<String> =
                    ["nosuid", "nodev", "noexec"].map(String::from).to_vec();
                if let Some(size) = size {
                    options.push(format!("size={size}"));
                }
                if let Some(mode) = mode {
                    options.push(format!("mode={mode:o}"));
                }
                ("tmpfs", PathBuf::from("tmpfs"), options)
            }
        };
        if user.read_only {
            options.push("ro".to_owned());
        }
        mounts.push(mount(user.target.clone(), typ, source, options));
    }
    mounts
}

fn mount(destination: PathBuf, typ: &str, source: PathBuf, options: Vec<String>) -> Mount {
    let mut mount = Mount::default();
    mount
        .set_destination(destination)
        .set_typ(Some(typ.to_owned()))
        .set_source(Some(source))
        .set_options(Some(options));
    mount
}
