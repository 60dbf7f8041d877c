//! The program cache (keys, file format, rejection of bad files, concurrent
//! writers), compilation, and the capabilities granted for loading.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use oci_spec::runtime::{
    Capabilities, Capability, LinuxCapabilities, LinuxSeccomp, LinuxSeccompAction,
    LinuxSeccompFilterFlag, LinuxSyscall, Process, Spec,
};

use super::cache::{decode, encode, Cache, Invalid, Key};
use super::*;
use crate::runtime::seccomp::{docker_default, HostArch, Platform};

fn docker_profile() -> LinuxSeccomp {
    let platform = Platform {
        arch: HostArch::X86_64,
        x32: false,
    };
    docker_default(
        &crate::runtime::spec::capabilities_from_mask(0xa80425fb),
        platform,
    )
}

/// Allows everything but `mkdir`/`mkdirat`, which fail with `errno`.
fn deny_mkdir(errno: u32) -> LinuxSeccomp {
    let mut rule = LinuxSyscall::default();
    rule.set_names(vec!["mkdir".to_owned(), "mkdirat".to_owned()])
        .set_action(LinuxSeccompAction::ScmpActErrno)
        .set_errno_ret(Some(errno));
    let mut profile = LinuxSeccomp::default();
    profile
        .set_default_action(LinuxSeccompAction::ScmpActAllow)
        .set_syscalls(Some(vec![rule]));
    profile
}

fn json(profile: &LinuxSeccomp) -> Vec<u8> {
    serde_json::to_vec(profile).unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_key_changes_with_the_profile_and_the_host() {
    let (docker, mkdir) = (json(&docker_profile()), json(&deny_mkdir(1)));
    let key = Key::new(&docker, "libseccomp 2.5.4 x86_64");
    assert_eq!(key, Key::new(&docker, "libseccomp 2.5.4 x86_64"));
    assert_ne!(key, Key::new(&mkdir, "libseccomp 2.5.4 x86_64"));
    assert_ne!(
        key,
        Key::new(&json(&deny_mkdir(2)), "libseccomp 2.5.4 x86_64")
    );
    assert_ne!(key, Key::new(&docker, "libseccomp 2.6.0 x86_64"));
    // The parts are length-prefixed: moving bytes between them changes the key.
    assert_ne!(Key::new(b"ab", "c"), Key::new(b"b", "ca"));
}

#[test]
fn a_cache_file_decodes_only_whole_and_for_its_key() {
    let key = Key::new(b"profile", "host");
    let program: Vec<u8> = (0..24).collect();
    let bytes = encode(&key, &program);
    assert_eq!(decode(&key, &bytes), Ok(program.as_slice()));

    assert_eq!(
        decode(&Key::new(b"other", "host"), &bytes),
        Err(Invalid::Key)
    );
    assert_eq!(decode(&key, &bytes[..bytes.len() - 1]), Err(Invalid::Size));
    assert_eq!(decode(&key, &bytes[..20]), Err(Invalid::Size));
    assert_eq!(decode(&key, b""), Err(Invalid::Size));
    let mut flipped = bytes.clone();
    flipped[50] ^= 1;
    assert_eq!(decode(&key, &flipped), Err(Invalid::Digest));
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert_eq!(decode(&key, &magic), Err(Invalid::Magic));
    // A count that disagrees with the length, or zero instructions.
    let mut count = bytes.clone();
    count[40] = 4;
    assert_eq!(decode(&key, &count), Err(Invalid::Size));
    assert_eq!(decode(&key, &encode(&key, &[])), Err(Invalid::Count));
}

#[test]
fn the_cache_returns_what_was_stored_and_rejects_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let key = Key::new(b"profile", "host");
    assert_eq!(cache.load(&key).unwrap(), None);
    let program = vec![7u8; 16];
    cache.store(&key, &program).unwrap();
    assert_eq!(cache.load(&key).unwrap(), Some(program.clone()));
    let mode = fs::metadata(dir.path().join("cache"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let [name] = files(&dir.path().join("cache")).try_into().unwrap();
    let path = dir.path().join("cache").join(name);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Cut short, or writable by others: not used.
    let whole = fs::read(&path).unwrap();
    fs::write(&path, &whole[..whole.len() - 8]).unwrap();
    assert_eq!(cache.load(&key).unwrap(), None);
    fs::write(&path, &whole).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(cache.load(&key).unwrap(), None);
    // A symbolic link is not followed.
    fs::remove_file(&path).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::write(&elsewhere, &whole).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
    assert_eq!(cache.load(&key).unwrap(), None);
    // Not whole instructions: refused before anything is written.
    assert!(cache.store(&key, &[1, 2, 3]).is_err());
}

#[test]
fn a_directory_others_can_write_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
    let error = Cache::new(&shared)
        .store(&Key::new(b"p", "h"), &[0; 8])
        .unwrap_err();
    assert!(error.to_string().contains("only it can write"), "{error}");
    assert!(files(&shared).is_empty());
}

#[test]
fn concurrent_writers_leave_one_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let key = Key::new(b"profile", "host");
    let program: Vec<u8> = (0..=255).cycle().take(8 * 1000).collect();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..20 {
                    cache.store(&key, &program).unwrap();
                    // A reader never sees a partial file.
                    assert_eq!(cache.load(&key).unwrap().as_ref(), Some(&program));
                }
            });
        }
    });
    assert_eq!(files(&dir.path().join("cache")).len(), 1);
}

#[test]
fn compiling_is_deterministic_and_profiles_differ() {
    let docker = compile::compile(&docker_profile()).unwrap();
    assert_eq!(docker, compile::compile(&docker_profile()).unwrap());
    assert!(cache::storable(&docker), "{} bytes", docker.len());
    let mkdir = compile::compile(&deny_mkdir(1)).unwrap();
    assert_ne!(docker, mkdir);
    assert_ne!(mkdir, compile::compile(&deny_mkdir(2)).unwrap());
}

#[test]
fn the_program_is_compiled_once_then_read_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let profile = docker_profile();
    let compiled = program(&profile, &cache).unwrap();
    let [name] = files(dir.path()).try_into().unwrap();
    // Another valid program under the same key is what comes back: the
    // cache was read, nothing was compiled.
    let key = Key::new(&json(&profile), &host());
    cache.store(&key, &[0; 8]).unwrap();
    assert_eq!(program(&profile, &cache).unwrap(), vec![0; 8]);
    // A corrupt file is replaced by a fresh compilation.
    fs::write(dir.path().join(&name), b"garbage").unwrap();
    assert_eq!(program(&profile, &cache).unwrap(), compiled);
    assert_eq!(files(dir.path()), [name]);
    // Another profile gets a file of its own.
    program(&deny_mkdir(1), &cache).unwrap();
    assert_eq!(files(dir.path()).len(), 2);
}

#[test]
fn notify_profiles_are_refused() {
    let mut profile = deny_mkdir(1);
    let mut rules = profile.syscalls().clone().unwrap();
    rules[0].set_action(LinuxSeccompAction::ScmpActNotify);
    profile.set_syscalls(Some(rules));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        SeccompExecutor::new(&profile, dir.path(), Vec::new()),
        Err(FilterError::Notify)
    ));
}

#[test]
fn flags_map_to_the_kernels() {
    let mut profile = deny_mkdir(1);
    assert_eq!(load_flags(&profile), 0);
    profile.set_flags(Some(vec![
        LinuxSeccompFilterFlag::SeccompFilterFlagLog,
        LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow,
    ]));
    assert_eq!(load_flags(&profile), 2 | 4);
}

fn spec_with(capabilities: &[Capability], no_new_privileges: Option<bool>) -> Spec {
    let set: Capabilities = capabilities.iter().copied().collect();
    let mut caps = LinuxCapabilities::default();
    caps.set_bounding(Some(set.clone()))
        .set_effective(Some(set.clone()))
        .set_permitted(Some(set))
        .set_inheritable(Some(HashSet::new()))
        .set_ambient(Some(HashSet::new()));
    let mut process = Process::default();
    process
        .set_capabilities(Some(caps))
        .set_no_new_privileges(no_new_privileges);
    let mut spec = Spec::default();
    spec.set_process(Some(process));
    spec
}

fn sets(spec: &Spec) -> [Capabilities; 5] {
    let caps = spec
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .clone()
        .unwrap();
    [
        caps.bounding().clone().unwrap(),
        caps.effective().clone().unwrap(),
        caps.permitted().clone().unwrap(),
        caps.inheritable().clone().unwrap(),
        caps.ambient().clone().unwrap(),
    ]
}

#[test]
fn loader_capabilities_are_granted_only_when_needed() {
    let all: Capabilities = [Capability::SysAdmin, Capability::Setpcap, Capability::Chown]
        .into_iter()
        .collect();
    // Docker's default set holds CAP_SETPCAP: only CAP_SYS_ADMIN is granted,
    // in the bounding, effective and permitted sets.
    let mut spec = spec_with(&[Capability::Chown, Capability::Setpcap], None);
    assert_eq!(
        raise_loader_capabilities(&mut spec, &all),
        [Capability::SysAdmin]
    );
    let granted: Capabilities = [Capability::Chown, Capability::Setpcap, Capability::SysAdmin]
        .into_iter()
        .collect();
    let [bounding, effective, permitted, inheritable, ambient] = sets(&spec);
    assert_eq!([&bounding, &effective, &permitted], [&granted; 3]);
    assert!(inheritable.is_empty() && ambient.is_empty());

    // No capabilities at all: both.
    let mut spec = spec_with(&[], None);
    assert_eq!(
        raise_loader_capabilities(&mut spec, &all),
        [Capability::SysAdmin, Capability::Setpcap]
    );
    // Nothing under no_new_privs, with CAP_SYS_ADMIN, or what the caller lacks.
    let mut spec = spec_with(&[], Some(true));
    assert!(raise_loader_capabilities(&mut spec, &all).is_empty());
    assert!(sets(&spec)[1].is_empty());
    let mut spec = spec_with(&[Capability::SysAdmin], None);
    assert!(raise_loader_capabilities(&mut spec, &all).is_empty());
    let mut spec = spec_with(&[], None);
    let only_chown: Capabilities = [Capability::Chown].into_iter().collect();
    assert!(raise_loader_capabilities(&mut spec, &only_chown).is_empty());
}

#[test]
fn the_profile_leaves_the_spec_for_a_record_exec_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let all: Capabilities = [Capability::SysAdmin, Capability::Setpcap]
        .into_iter()
        .collect();
    let mut spec = spec_with(&[Capability::Setpcap], None);
    let mut linux = oci_spec::runtime::Linux::default();
    linux.set_seccomp(Some(deny_mkdir(1)));
    spec.set_linux(Some(linux));

    let executor = SeccompExecutor::take(&mut spec, dir.path(), &cache_dir, &all)
        .unwrap()
        .unwrap();
    assert_eq!(spec.linux().as_ref().unwrap().seccomp(), &None);
    assert_eq!(executor.raised, [Capability::SysAdmin]);
    let (for_exec, no_new_privileges) = SeccompExecutor::for_exec(&spec, dir.path(), &cache_dir)
        .unwrap()
        .unwrap();
    assert!(!no_new_privileges);
    assert_eq!(for_exec.raised, executor.raised);
    assert_eq!(for_exec.program, executor.program);

    // A spec that still holds its profile (made before filters were
    // cached): exec'd processes load it under no_new_privs.
    let mut old = spec_with(&[], None);
    let mut linux = oci_spec::runtime::Linux::default();
    linux.set_seccomp(Some(deny_mkdir(1)));
    old.set_linux(Some(linux));
    let empty = tempfile::tempdir().unwrap();
    let (_, no_new_privileges) = SeccompExecutor::for_exec(&old, empty.path(), &cache_dir)
        .unwrap()
        .unwrap();
    assert!(no_new_privileges);
    // No profile anywhere: unconfined.
    let unconfined = spec_with(&[], None);
    assert!(
        SeccompExecutor::for_exec(&unconfined, empty.path(), &cache_dir)
            .unwrap()
            .is_none()
    );
}
