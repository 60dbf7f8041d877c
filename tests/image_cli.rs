//! `stack image` through the real binary, against the embedded daemon it
//! starts on demand (own state root and run directory per test): the
//! busybox image built by `scripts/busybox-image`, ls, inspect, tag, rm,
//! prune, load of a `docker save` archive, refusal of an escaping layer,
//! and Debian's `docker` client against our socket when it is installed.

mod common;

use common::{stderr, stdout, Engine};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

impl Engine {
    /// Runs stack and insists that it succeeded.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.stack(args);
        assert!(out.status.success(), "stack {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    fn busybox_image(&self) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/busybox-image");
        let mut command = Command::new(script);
        command.args(["--stack", env!("CARGO_BIN_EXE_stack")]);
        self.env(&mut command);
        command.output().expect("run scripts/busybox-image")
    }

    fn layer_count(&self) -> usize {
        std::fs::read_dir(self.root().join("image/layers"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

/// Building the image needs chroot (root) and Debian's busybox-static.
fn can_build_busybox() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")));
    if !root || !Path::new("/bin/busybox").exists() {
        eprintln!("skipped: needs root and busybox-static");
        return false;
    }
    true
}

fn run(command: &mut Command) -> Output {
    let out = command.output().expect("run a command");
    assert!(out.status.success(), "{command:?}: {}", stderr(&out));
    out
}

fn sha256(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    stdout(&out)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

/// A `docker save` archive of one image, `loaded:1`, whose only layer holds
/// `hello.txt`, built with tar and sha256sum.
fn docker_save_archive(dir: &Path) -> PathBuf {
    let rootfs = dir.join("save-rootfs");
    std::fs::create_dir_all(&rootfs).expect("mkdir");
    std::fs::write(rootfs.join("hello.txt"), "hello\n").expect("write");
    let layer = dir.join("hello-layer.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&layer)
        .arg("."));
    docker_save_of(dir, &layer, "save")
}

/// A `docker save` archive `NAME.tar` of `loaded:1` with `layer` as its
/// only layer, laid out in the directory `dir/NAME`.
fn docker_save_of(dir: &Path, layer: &Path, name: &str) -> PathBuf {
    let archive = dir.join(name);
    std::fs::create_dir_all(&archive).expect("mkdir");
    std::fs::copy(layer, archive.join("layer.tar")).expect("copy");
    let diff_id = sha256(&archive.join("layer.tar"));
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": {
            "Cmd": ["cat", "/hello.txt"],
            "Env": ["PATH=/bin"],
            "ExposedPorts": {"80/tcp": {}},
            "Labels": {"team": "core"},
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000}
        },
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff_id}")]}
    });
    let config_path = archive.join("config.json");
    std::fs::write(&config_path, config.to_string()).expect("write");
    let config_name = format!("{}.json", sha256(&config_path));
    std::fs::rename(&config_path, archive.join(&config_name)).expect("rename");
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": ["loaded:1"],
        "Layers": ["layer.tar"]
    }]);
    std::fs::write(archive.join("manifest.json"), manifest.to_string()).expect("write");
    let tar = dir.join(format!("{name}.tar"));
    run(Command::new("tar")
        .arg("-C")
        .arg(&archive)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    tar
}

#[test]
fn busybox_image_import_ls_inspect_tag_rm_prune() {
    if !can_build_busybox() {
        return;
    }
    let engine = Engine::new();
    let out = engine.busybox_image();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("sha256:"), "{}", stdout(&out));

    let listed = engine.ok(&["image", "ls"]);
    let mut lines = listed.lines();
    let header = lines.next().expect("header");
    for column in ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"] {
        assert!(header.contains(column), "{header}");
    }
    let row: Vec<&str> = lines.next().expect("a row").split_whitespace().collect();
    assert_eq!(&row[..2], ["busybox", "latest"]);
    assert_eq!(row[2].len(), 12);

    let json: serde_json::Value =
        serde_json::from_str(&engine.ok(&["image", "inspect", "busybox"])).expect("json");
    let image = &json[0];
    assert_eq!(image["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(image["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(image["RootFS"]["Layers"].as_array().map(Vec::len), Some(1));
    assert!(image["Created"]
        .as_str()
        .is_some_and(|c| c.starts_with("20")));
    // The applet links were made inside the chroot: they name /bin/busybox.
    let layer = PathBuf::from(
        image["GraphDriver"]["Data"]["LowerDir"]
            .as_str()
            .expect("dir"),
    );
    assert_eq!(
        std::fs::read_link(layer.join("bin/sh")).expect("bin/sh"),
        Path::new("/bin/busybox")
    );
    let tmp = std::fs::symlink_metadata(layer.join("tmp")).expect("tmp");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&tmp.permissions()) & 0o7777,
        0o1777
    );
    let passwd = std::fs::read_to_string(layer.join("etc/passwd")).expect("passwd");
    assert!(passwd.contains("root:x:0:0") && passwd.contains("nobody:x:65534"));

    let again = engine.busybox_image();
    assert!(
        stdout(&again).contains("already exists"),
        "{}",
        stdout(&again)
    );

    engine.ok(&["image", "tag", "busybox", "mybox:1"]);
    let id = engine.ok(&["image", "ls", "-q", "--filter", "reference=mybox"]);
    assert_eq!(id.trim(), row[2]);
    assert_eq!(
        engine.ok(&["image", "rm", "mybox:1"]),
        "Untagged: mybox:1\n"
    );
    let removed = engine.ok(&["image", "rm", "busybox"]);
    assert!(
        removed.starts_with("Untagged: busybox:latest\nDeleted: sha256:"),
        "{removed}"
    );
    assert_eq!(engine.ok(&["image", "ls", "-q"]), "");
    assert_eq!(engine.layer_count(), 0);

    let missing = engine.stack(&["image", "rm", "busybox"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no such image"),
        "{}",
        stderr(&missing)
    );

    // A directory imports as it is, with changes applied.
    let dir = engine.dir().join("dir-rootfs");
    std::fs::create_dir_all(dir.join("bin")).expect("mkdir");
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("copy");
    engine.ok(&[
        "image",
        "import",
        "--change",
        r#"ENTRYPOINT ["/bin/busybox", "echo"]"#,
        "--change",
        "WORKDIR /www",
        dir.to_str().expect("utf-8"),
        "dirimg:2",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&engine.ok(&["image", "inspect", "dirimg:2"])).expect("json");
    assert_eq!(
        json[0]["Config"]["Entrypoint"],
        serde_json::json!(["/bin/busybox", "echo"])
    );
    assert_eq!(json[0]["Config"]["WorkingDir"], "/www");

    assert_eq!(
        engine.ok(&["image", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    let pruned = engine.ok(&["image", "prune", "-a", "-f"]);
    assert!(
        pruned.starts_with("Deleted Images:\nuntagged: dirimg:2\ndeleted: sha256:"),
        "{pruned}"
    );
    assert_eq!(engine.layer_count(), 0);
}

#[test]
fn load_a_docker_save_archive_and_refuse_an_escaping_layer() {
    let engine = Engine::new();
    let archive = docker_save_archive(engine.dir());
    let out = engine.ok(&["image", "load", "-i", archive.to_str().expect("utf-8")]);
    assert_eq!(out, "Loaded image: loaded:1\n");
    let json: serde_json::Value =
        serde_json::from_str(&engine.ok(&["image", "inspect", "loaded:1"])).expect("json");
    let config = &json[0]["Config"];
    assert_eq!(config["Cmd"], serde_json::json!(["cat", "/hello.txt"]));
    assert_eq!(config["ExposedPorts"], serde_json::json!({"80/tcp": {}}));
    assert_eq!(
        config["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "true"])
    );
    assert_eq!(json[0]["Created"], "2024-01-02T03:04:05Z");
    let listed = engine.ok(&["image", "ls", "--filter", "label=team=core"]);
    assert!(listed.contains("loaded "), "{listed}");

    // From standard input too; quiet still names what was loaded, as docker does.
    let mut command = Command::new(env!("CARGO_BIN_EXE_stack"));
    command
        .args(["image", "load", "-q"])
        .stdin(std::fs::File::open(&archive).expect("open"));
    engine.env(&mut command);
    let out = run(&mut command);
    assert_eq!(stdout(&out), "Loaded image: loaded:1\n");

    // `../escape` is refused by name, and nothing is kept or written outside.
    let before = engine.layer_count();
    let dir = engine.dir().join("evil");
    std::fs::create_dir_all(dir.join("inner")).expect("mkdir");
    std::fs::write(dir.join("escape"), "boom").expect("write");
    let evil = engine.dir().join("evil.tar");
    run(Command::new("tar")
        .current_dir(dir.join("inner"))
        .arg("-P")
        .arg("-cf")
        .arg(&evil)
        .arg("../escape"));
    let out = engine.stack(&["image", "import", evil.to_str().expect("utf-8"), "evil:1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("../escape"), "{}", stderr(&out));
    assert_eq!(engine.ok(&["image", "ls", "-q", "evil"]), "");
    assert_eq!(engine.layer_count(), before);
    assert!(!engine.root().join("image/escape").exists());
    assert!(!engine.root().join("escape").exists());

    // The same layer inside a docker-save archive: the load is refused whole.
    let evil_save = docker_save_of(engine.dir(), &evil, "evil-save");
    engine.ok(&["image", "rm", "loaded:1"]);
    let out = engine.stack(&["image", "load", "-i", evil_save.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("../escape"), "{}", stderr(&out));
    assert_eq!(engine.ok(&["image", "ls", "-q"]), "");
    assert_eq!(engine.layer_count(), 0);
}

/// Debian's docker client (never a Docker daemon) against our socket.
#[test]
fn the_docker_client_manages_images() {
    let Some(docker) = common::docker_client() else {
        return;
    };
    let engine = Engine::new();
    engine.ok(&["image", "ls"]);
    let docker_cmd = |args: &[&str]| {
        let mut command = engine.docker(docker);
        command.args(args).stdin(Stdio::null());
        command
    };

    let archive = docker_save_archive(engine.dir());
    let out = run(&mut docker_cmd(&[
        "load",
        "-i",
        archive.to_str().expect("utf-8"),
    ]));
    assert!(
        stdout(&out).contains("Loaded image: loaded:1"),
        "{}",
        stdout(&out)
    );

    let layer = engine.dir().join("save/layer.tar");
    let out = run(&mut docker_cmd(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        layer.to_str().expect("utf-8"),
        "imported:2",
    ]));
    assert!(stdout(&out).starts_with("sha256:"), "{}", stdout(&out));

    let out = run(&mut docker_cmd(&["images"]));
    let listed = stdout(&out);
    assert!(
        listed.contains("loaded") && listed.contains("imported"),
        "{listed}"
    );

    let out = run(&mut docker_cmd(&["image", "inspect", "imported:2"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["Config"]["Cmd"], serde_json::json!(["sh"]));

    let out = run(&mut docker_cmd(&["rmi", "imported:2"]));
    assert!(
        stdout(&out).contains("Untagged: imported:2"),
        "{}",
        stdout(&out)
    );
    let out = docker_cmd(&["image", "inspect", "imported:2"])
        .output()
        .expect("docker");
    assert!(!out.status.success());

    // docker save, then load it back after removing the image.
    let saved = engine.dir().join("resaved.tar");
    run(&mut docker_cmd(&[
        "save",
        "-o",
        saved.to_str().expect("utf-8"),
        "loaded:1",
    ]));
    run(&mut docker_cmd(&["rmi", "loaded:1"]));
    let out = run(&mut docker_cmd(&[
        "load",
        "-i",
        saved.to_str().expect("utf-8"),
    ]));
    assert!(
        stdout(&out).contains("Loaded image: loaded:1"),
        "{}",
        stdout(&out)
    );
    let out = run(&mut docker_cmd(&["image", "inspect", "loaded:1"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json[0]["Config"]["Cmd"],
        serde_json::json!(["cat", "/hello.txt"])
    );

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 1;
    let out = run(&mut docker_cmd(&[
        "events",
        "--since",
        "0",
        "--until",
        &now.to_string(),
        "--filter",
        "type=image",
        "--format",
        "{{.Action}}",
    ]));
    let actions: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    for action in ["load", "import", "tag", "untag", "delete"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}
