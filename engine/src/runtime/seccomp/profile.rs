//! A user's seccomp profile in Docker's JSON format (`--security-opt
//! seccomp=FILE`, whose content the client sends), and its resolution into
//! the OCI form for one container, as Docker's daemon does it.
//!
//! Docker's format is the OCI one plus conditions: `archMap` lists the
//! compatibility architectures of each native one (only the host's entry
//! is used), and each rule may carry `includes`/`excludes` filters on the
//! host architecture (Go's names: `amd64`, `arm64`...), the container's
//! bounding capabilities and the kernel version; a rule may also name one
//! call with the older `name` field.

use std::fmt;
use std::path::PathBuf;

use oci_spec::runtime::{
    Arch, Capabilities, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSyscall,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{HostArch, Platform};

/// Why a profile was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Not JSON, or not Docker's profile format.
    #[error("decoding the seccomp profile failed: {0}")]
    Json(#[from] serde_json::Error),
    /// The profile lists both forms of architectures.
    #[error("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'")]
    BothArchitectureForms,
    /// A rule names its calls twice.
    #[error("syscalls[{0}] of the seccomp profile has both 'name' and 'names', use either 'name' or 'names'")]
    BothNameForms(usize),
    /// A rule names no call.
    #[error("syscalls[{0}] of the seccomp profile names no system call: give 'names'")]
    NoNames(usize),
    /// Rules without a default action for everything else.
    #[error("the seccomp profile has syscalls but no 'defaultAction': add one (SCMP_ACT_ERRNO denies the rest, SCMP_ACT_ALLOW allows it)")]
    NoDefaultAction,
}

/// A profile in Docker's format, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_action: Option<LinuxSeccompAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    architectures: Option<Vec<Arch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arch_map: Option<Vec<ArchMapEntry>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flags: Option<Vec<LinuxSeccompFilterFlag>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    listener_path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    listener_metadata: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    syscalls: Option<Vec<Rule>>,
}

/// One native architecture and the compatibility ones that go with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMapEntry {
    architecture: Arch,
    #[serde(default)]
    sub_architectures: Option<Vec<Arch>>,
}

/// One rule, with the conditions under which it applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    action: LinuxSeccompAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    args: Option<Vec<LinuxSeccompArg>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    includes: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    excludes: Option<Filter>,
}

/// A condition on the host and the container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    caps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arches: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_kernel: Option<KernelVersion>,
}

/// A kernel version as `<kernel>.<major>` (`5.8`); minor revisions and
/// distribution suffixes do not count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    /// The `5` of `5.8.3`.
    pub kernel: u32,
    /// The `8` of `5.8.3`.
    pub major: u32,
}

impl KernelVersion {
    /// The running kernel's version; 0.0 (older than every condition) if
    /// its release cannot be read or does not start with one.
    pub fn host() -> Self {
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .and_then(|release| Self::from_release(release.trim()))
            .unwrap_or_default()
    }

    /// `6.18.0-1-amd64` → 6.18.
    fn from_release(release: &str) -> Option<Self> {
        let mut parts = release.splitn(3, '.');
        let kernel = parts.next()?.parse().ok()?;
        let major: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some(KernelVersion {
            kernel,
            major: major.parse().ok()?,
        })
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kernel, self.major)
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let invalid = || {
            serde::de::Error::custom(format!(
                "invalid kernel version {text:?}, expected \"<kernel>.<major>\" such as \"5.8\""
            ))
        };
        let (kernel, major) = text.split_once('.').ok_or_else(invalid)?;
        let version = KernelVersion {
            kernel: kernel.parse().map_err(|_| invalid())?,
            major: major.parse().map_err(|_| invalid())?,
        };
        if version == KernelVersion::default() {
            return Err(invalid());
        }
        Ok(version)
    }
}

impl Profile {
    /// Reads and checks a profile's JSON text.
    pub fn from_json(text: &str) -> Result<Self, ProfileError> {
        let profile: Profile = serde_json::from_str(text)?;
        if profile
            .architectures
            .as_ref()
            .is_some_and(|a| !a.is_empty())
            && profile.arch_map.as_ref().is_some_and(|a| !a.is_empty())
        {
            return Err(ProfileError::BothArchitectureForms);
        }
        let rules = profile.syscalls.as_deref().unwrap_or_default();
        for (index, rule) in rules.iter().enumerate() {
            let names = rule.names.as_ref().is_some_and(|n| !n.is_empty());
            match (&rule.name, names) {
                (Some(name), true) if !name.is_empty() => {
                    return Err(ProfileError::BothNameForms(index))
                }
                (Some(name), false) if !name.is_empty() => {}
                (_, false) => return Err(ProfileError::NoNames(index)),
                _ => {}
            }
        }
        if profile.default_action.is_none() && !rules.is_empty() {
            return Err(ProfileError::NoDefaultAction);
        }
        Ok(profile)
    }

    /// The OCI profile for a container holding `capabilities` on
    /// `platform` running `kernel`; `None` (no filter) for a profile with
    /// neither a default action nor rules, as Docker reads it.
    pub fn resolve(
        &self,
        capabilities: &Capabilities,
        platform: Platform,
        kernel: KernelVersion,
    ) -> Option<LinuxSeccomp> {
        let default_action = self.default_action?;
        let native = docker_arch(platform.arch);
        let mut architectures = self.architectures.clone().unwrap_or_default();
        if let Some((_, arch)) = native {
            let entry = self
                .arch_map
                .iter()
                .flatten()
                .find(|entry| entry.architecture == arch);
            if let Some(entry) = entry {
                architectures.push(entry.architecture);
                architectures.extend(entry.sub_architectures.iter().flatten());
            }
        }
        let host = Host {
            arch: native.map(|(name, _)| name),
            capabilities: capabilities.iter().map(|c| format!("CAP_{c}")).collect(),
            kernel,
        };
        let syscalls: Vec<LinuxSyscall> = self
            .syscalls
            .iter()
            .flatten()
            .filter(|rule| {
                rule.excludes.as_ref().is_none_or(|f| !host.excluded_by(f))
                    && rule.includes.as_ref().is_none_or(|f| host.included_by(f))
            })
            .map(Rule::to_oci)
            .collect();
        let mut seccomp = LinuxSeccomp::default();
        seccomp
            .set_default_action(default_action)
            .set_default_errno_ret(self.default_errno_ret)
            .set_architectures((!architectures.is_empty()).then_some(architectures))
            .set_flags(self.flags.clone())
            .set_listener_path(self.listener_path.clone())
            .set_listener_metadata(self.listener_metadata.clone())
            .set_syscalls(Some(syscalls));
        Some(seccomp)
    }
}

/// Docker's (Go's) name of the host architecture and its seccomp one.
fn docker_arch(arch: HostArch) -> Option<(&'static str, Arch)> {
    match arch {
        HostArch::X86_64 => Some(("amd64", Arch::ScmpArchX86_64)),
        HostArch::Aarch64 => Some(("arm64", Arch::ScmpArchAarch64)),
        HostArch::Other => None,
    }
}

/// What the conditions of rules are checked against.
struct Host {
    arch: Option<&'static str>,
    capabilities: Vec<String>,
    kernel: KernelVersion,
}

impl Host {
    /// Any one condition of an `excludes` that holds drops the rule.
    fn excluded_by(&self, filter: &Filter) -> bool {
        let arches = filter.arches.as_deref().unwrap_or_default();
        let caps = filter.caps.as_deref().unwrap_or_default();
        self.arch
            .is_some_and(|arch| arches.iter().any(|a| a == arch))
            || caps.iter().any(|cap| self.capabilities.contains(cap))
            || filter.min_kernel.is_some_and(|min| self.kernel >= min)
    }

    /// Every condition of an `includes` must hold to keep the rule.
    fn included_by(&self, filter: &Filter) -> bool {
        let arches = filter.arches.as_deref().unwrap_or_default();
        let caps = filter.caps.as_deref().unwrap_or_default();
        (arches.is_empty()
            || self
                .arch
                .is_some_and(|arch| arches.iter().any(|a| a == arch)))
            && caps.iter().all(|cap| self.capabilities.contains(cap))
            && filter.min_kernel.is_none_or(|min| self.kernel >= min)
    }
}

impl Rule {
    fn to_oci(&self) -> LinuxSyscall {
        let names = match &self.name {
            Some(name) if !name.is_empty() => vec![name.clone()],
            _ => self.names.clone().unwrap_or_default(),
        };
        let mut syscall = LinuxSyscall::default();
        syscall
            .set_names(names)
            .set_action(self.action)
            .set_errno_ret(self.errno_ret)
            .set_args(self.args.clone());
        syscall
    }
}

#[cfg(test)]
mod tests {
    use oci_spec::runtime::Capability;

    use super::*;

    const X86: Platform = Platform {
        arch: HostArch::X86_64,
        x32: false,
    };

    fn kernel(kernel: u32, major: u32) -> KernelVersion {
        KernelVersion { kernel, major }
    }

    fn names(seccomp: &LinuxSeccomp) -> Vec<String> {
        seccomp
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|s| s.names().clone())
            .collect()
    }

    #[test]
    fn docker_format_is_resolved_for_the_container_and_host() {
        let profile = Profile::from_json(
            r#"{
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "archMap": [
                {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
              ],
              "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
                {"name": "mount", "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
                {"names": ["new_call"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.20"}},
                {"names": ["old_call"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.8"}}
              ]
            }"#,
        )
        .unwrap();
        let plain = Capabilities::from([Capability::Chown]);
        let seccomp = profile.resolve(&plain, X86, kernel(6, 18)).unwrap();
        assert_eq!(seccomp.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(seccomp.default_errno_ret(), Some(1));
        assert_eq!(
            seccomp.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
        assert_eq!(names(&seccomp), ["read", "write", "clone3", "arch_prctl"]);
        let clone3 = &seccomp.syscalls().as_ref().unwrap()[1];
        assert_eq!(clone3.errno_ret(), Some(38));

        let admin = Capabilities::from([Capability::SysAdmin]);
        let seccomp = profile.resolve(&admin, X86, kernel(4, 19)).unwrap();
        assert_eq!(
            names(&seccomp),
            ["read", "write", "mount", "arch_prctl", "old_call"]
        );
        let arm = Platform {
            arch: HostArch::Aarch64,
            x32: false,
        };
        let seccomp = profile.resolve(&plain, arm, kernel(7, 0)).unwrap();
        assert_eq!(
            seccomp.architectures().as_deref(),
            Some(&[Arch::ScmpArchAarch64, Arch::ScmpArchArm][..])
        );
        assert_eq!(names(&seccomp), ["read", "write", "clone3", "new_call"]);
    }

    #[test]
    fn an_empty_profile_means_no_filter_and_round_trips() {
        let empty = Profile::from_json("{}").unwrap();
        assert_eq!(empty.resolve(&Capabilities::new(), X86, kernel(6, 1)), None);
        let profile = Profile::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"3.12"}}]}"#,
        )
        .unwrap();
        let text = serde_json::to_string(&profile).unwrap();
        assert_eq!(Profile::from_json(&text).unwrap(), profile);
        assert!(text.contains(r#""minKernel":"3.12""#), "{text}");
    }

    #[test]
    fn malformed_profiles_are_refused_with_the_reason() {
        let error = |text: &str| Profile::from_json(text).unwrap_err().to_string();
        assert!(error("not json").contains("decoding the seccomp profile failed"));
        assert!(error(r#"{"defaultAction":"SCMP_ACT_MAYBE"}"#).contains("SCMP_ACT_MAYBE"));
        assert!(error(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#
        )
        .contains("both 'architectures' and 'archMap'"));
        assert!(error(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}"#
        )
        .contains("syscalls[0]"));
        assert!(error(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]}"#
        )
        .contains("names no system call"));
        assert!(
            error(r#"{"syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO"}]}"#)
                .contains("no 'defaultAction'")
        );
        assert!(error(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"5"}}]}"#
        )
        .contains("invalid kernel version \"5\""));
    }

    #[test]
    fn kernel_releases() {
        assert_eq!(
            KernelVersion::from_release("6.18.0-1-amd64"),
            Some(kernel(6, 18))
        );
        assert_eq!(KernelVersion::from_release("5.10-rc5"), Some(kernel(5, 10)));
        assert_eq!(KernelVersion::from_release("weird"), None);
        assert!(KernelVersion::host() > kernel(3, 0));
    }
}
