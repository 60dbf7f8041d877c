//! How the daemon starts the monitor: the executable's name and the
//! check that it is there, and its command line, both ways: the daemon writes it
//! ([`MonitorArgs::to_args`], [`MonitorArgs::to_exec_args`]) and the
//! `stack-monitor` executable reads it back ([`Invocation::parse`]), by
//! hand: the monitor runs once per container start and per exec, and an
//! argument parser's code and start-up cost would be paid each time.
//!
//! The form is `--root DIR --run-dir DIR [--exec JSON | --watch JSON] ID`;
//! the watcher (`stack-watch`, see [`super::watch`]) that a monitor becomes
//! keeps the monitor's form, with the handover as `--watch`, so that the
//! daemon recognises it as the container's monitor all the same.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::exec::ExecRequest;

/// The monitor executable's file name; the daemon looks for it next to its
/// own executable unless told otherwise.
pub const EXECUTABLE: &str = "stack-monitor";

/// Why the monitor executable cannot be started: containers cannot run.
#[derive(Debug, thiserror::Error)]
pub enum MonitorMissing {
    /// Nothing at the path.
    #[error(
        "the container monitor {} does not exist: build it next to the stack \
         binary with `cargo build --release` (install both), or start the daemon \
         with --monitor-path PATH",
        .0.display()
    )]
    NotFound(PathBuf),
    /// Something that is not an executable file.
    #[error(
        "the container monitor {} is not an executable file: install stack's \
         `stack-monitor` there, or start the daemon with --monitor-path PATH",
        .0.display()
    )]
    NotExecutable(PathBuf),
    /// No watcher next to the monitor.
    #[error(
        "the container watcher {} does not exist (each container's monitor \
         becomes it once the container runs): build it with `cargo build \
         --release` and install it next to stack-monitor",
        .0.display()
    )]
    WatcherNotFound(PathBuf),
    /// Something next to the monitor that is not an executable watcher.
    #[error(
        "the container watcher {} is not an executable file: install stack's \
         `stack-watch` there, next to stack-monitor",
        .0.display()
    )]
    WatcherNotExecutable(PathBuf),
}

/// Checks that `path` is an executable file (the daemon does at its start,
/// and when starting a monitor fails, to say why).
pub fn check_executable(path: &Path) -> Result<(), MonitorMissing> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(_) => Err(MonitorMissing::NotExecutable(path.to_path_buf())),
        Err(_) => Err(MonitorMissing::NotFound(path.to_path_buf())),
    }
}

/// What the monitor is told on its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorArgs {
    /// The daemon's state root.
    pub root: PathBuf,
    /// The daemon's run directory.
    pub run_dir: PathBuf,
    /// The container's id.
    pub id: String,
}

/// Why `what` (the monitor or an exec helper) could not be started from
/// `exe`: a missing or unusable executable is named with what to do.
pub(crate) fn spawn_error(exe: &Path, what: &str, error: &std::io::Error) -> String {
    match check_executable(exe) {
        Err(missing) => missing.to_string(),
        Ok(()) => format!("cannot start {what} {}: {error}", exe.display()),
    }
}

impl MonitorArgs {
    /// The monitor's arguments (after its own name) for these values.
    pub fn to_args(&self) -> Vec<OsString> {
        vec![
            "--root".into(),
            self.root.clone().into(),
            "--run-dir".into(),
            self.run_dir.clone().into(),
            self.id.clone().into(),
        ]
    }

    /// The arguments of an exec helper running `request` in this
    /// container (see [`super::exec`]).
    pub fn to_exec_args(&self, request: &ExecRequest) -> Vec<OsString> {
        let mut args = self.to_args();
        let json = serde_json::to_string(request).unwrap_or_default();
        args.insert(args.len() - 1, "--exec".into());
        args.insert(args.len() - 1, json.into());
        args
    }

    /// The arguments of the watcher this container's monitor becomes,
    /// with the handover's JSON (see [`super::handover`]).
    pub(crate) fn to_watch_args(&self, handover: String) -> Vec<OsString> {
        let mut args = self.to_args();
        args.insert(args.len() - 1, "--watch".into());
        args.insert(args.len() - 1, handover.into());
        args
    }
}

/// A parsed command line: the container, and for an exec helper the
/// request's JSON (parsed by the caller, which reports its errors as an
/// exec's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The state root, run directory and container.
    pub args: MonitorArgs,
    /// `--exec`: the process to run in the running container.
    pub exec: Option<String>,
    /// `--watch`: the watcher's handover from the monitor.
    pub watch: Option<String>,
}

/// Why a command line is not a monitor's.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// An option without its value.
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    /// An option given twice.
    #[error("{0} is given twice")]
    Repeated(&'static str),
    /// A required option missing.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// An argument that is no option of the monitor, or a second id.
    #[error("unexpected argument {0:?}")]
    Unexpected(OsString),
    /// An id or request that is not UTF-8.
    #[error("{0} is not UTF-8")]
    NotUtf8(&'static str),
    /// `--exec` and `--watch` together.
    #[error("--exec and --watch exclude each other")]
    ExecAndWatch,
}

impl Invocation {
    /// Parses the arguments that follow the program's name.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, ArgsError> {
        let mut root: Option<PathBuf> = None;
        let mut run_dir: Option<PathBuf> = None;
        let mut exec: Option<String> = None;
        let mut watch: Option<String> = None;
        let mut id: Option<String> = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &'static str, taken: bool| {
                if taken {
                    return Err(ArgsError::Repeated(name));
                }
                args.next().ok_or(ArgsError::MissingValue(name))
            };
            match arg.to_str() {
                Some("--root") => root = Some(value("--root", root.is_some())?.into()),
                Some("--run-dir") => run_dir = Some(value("--run-dir", run_dir.is_some())?.into()),
                Some("--exec") => {
                    let json = value("--exec", exec.is_some())?;
                    exec = Some(
                        json.into_string()
                            .map_err(|_| ArgsError::NotUtf8("--exec"))?,
                    );
                }
                Some("--watch") => {
                    let json = value("--watch", watch.is_some())?;
                    watch = Some(
                        json.into_string()
                            .map_err(|_| ArgsError::NotUtf8("--watch"))?,
                    );
                }
                Some(text) if text.starts_with('-') || id.is_some() => {
                    return Err(ArgsError::Unexpected(arg));
                }
                _ => {
                    id = Some(
                        arg.into_string()
                            .map_err(|_| ArgsError::NotUtf8("the id"))?,
                    )
                }
            }
        }
        if exec.is_some() && watch.is_some() {
            return Err(ArgsError::ExecAndWatch);
        }
        Ok(Invocation {
            args: MonitorArgs {
                root: root.ok_or(ArgsError::Missing("--root"))?,
                run_dir: run_dir.ok_or(ArgsError::Missing("--run-dir"))?,
                id: id.ok_or(ArgsError::Missing("the container id"))?,
            },
            exec,
            watch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn args() -> MonitorArgs {
        MonitorArgs {
            root: "/r".into(),
            run_dir: "/run/s".into(),
            id: "abc".into(),
        }
    }

    fn parse(args: &[&str]) -> Result<Invocation, ArgsError> {
        Invocation::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn args_name_the_root_run_dir_and_id() {
        assert_eq!(
            args().to_args(),
            ["--root", "/r", "--run-dir", "/run/s", "abc"]
        );
    }

    #[test]
    fn what_the_daemon_writes_parses_back() {
        let parsed = Invocation::parse(args().to_args()).unwrap();
        assert_eq!(
            parsed,
            Invocation {
                args: args(),
                exec: None,
                watch: None,
            }
        );
        let request = ExecRequest {
            args: vec!["sh".into(), "-c".into(), "echo 'a b'".into()],
            name: "exec1".into(),
            ..ExecRequest::default()
        };
        let parsed = Invocation::parse(args().to_exec_args(&request)).unwrap();
        assert_eq!(parsed.args, args());
        let json = parsed.exec.unwrap();
        assert_eq!(serde_json::from_str::<ExecRequest>(&json).unwrap(), request);
        let parsed = Invocation::parse(args().to_watch_args("{\"a\": 1}".into())).unwrap();
        assert_eq!(parsed.args, args());
        assert_eq!(parsed.exec, None);
        assert_eq!(parsed.watch.as_deref(), Some("{\"a\": 1}"));
    }

    #[test]
    fn a_missing_or_unusable_monitor_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXECUTABLE);
        let message = check_executable(&path).unwrap_err().to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("cargo build --release"), "{message}");
        assert!(message.contains("--monitor-path"), "{message}");
        std::fs::write(&path, "").unwrap();
        assert!(matches!(
            check_executable(&path),
            Err(MonitorMissing::NotExecutable(_))
        ));
        assert!(matches!(
            check_executable(dir.path()),
            Err(MonitorMissing::NotExecutable(_))
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_executable(&path).is_ok());
    }

    #[test]
    fn options_may_come_in_any_order() {
        let parsed = parse(&["abc", "--run-dir", "/run/s", "--root", "/r"]).unwrap();
        assert_eq!(parsed.args, args());
    }

    #[test]
    fn malformed_command_lines_are_refused_by_name() {
        let error = |a: &[&str]| parse(a).unwrap_err().to_string();
        assert_eq!(error(&["--run-dir", "/d", "abc"]), "--root is missing");
        assert_eq!(error(&["--root", "/r", "abc"]), "--run-dir is missing");
        assert_eq!(
            error(&["--root", "/r", "--run-dir", "/d"]),
            "the container id is missing"
        );
        assert_eq!(error(&["--root"]), "--root needs a value");
        assert_eq!(
            error(&["--root", "/r", "--root", "/q"]),
            "--root is given twice"
        );
        assert_eq!(
            error(&["--root", "/r", "--run-dir", "/d", "a", "b"]),
            "unexpected argument \"b\""
        );
        assert_eq!(
            error(&["--verbose", "--root", "/r", "--run-dir", "/d", "a"]),
            "unexpected argument \"--verbose\""
        );
        assert_eq!(
            error(&[
                "--root",
                "/r",
                "--run-dir",
                "/d",
                "--exec",
                "{}",
                "--watch",
                "{}",
                "a"
            ]),
            "--exec and --watch exclude each other"
        );
        // The former `stack monitor` form: `monitor` and the id are two ids.
        assert!(parse(&["monitor", "--root", "/r", "--run-dir", "/d", "a"]).is_err());
        let bad = Invocation::parse([
            OsString::from("--root"),
            "/r".into(),
            "--run-dir".into(),
            "/d".into(),
            OsString::from_vec(vec![0xff]),
        ]);
        assert_eq!(bad, Err(ArgsError::NotUtf8("the id")));
    }
}
