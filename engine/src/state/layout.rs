//! Where everything the engine keeps lives, as one value with a method per
//! path, so that no other module joins path strings of its own.

use std::path::{Path, PathBuf};

use crate::volume::VolumeName;

/// The state root (persistent) and run directory (cleared at boot) of one
/// daemon. Both come from the caller: the library never assumes
/// `/var/lib/stack` or `/run/stack`.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
    run: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: PathBuf, run: PathBuf) -> Layout {
        Layout { root, run }
    }

    /// The state root itself (`--root`).
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The run directory (`/run/stack` by default).
    pub(crate) fn run_dir(&self) -> &Path {
        &self.run
    }

    /// The cgroup under which this root's containers get theirs (see
    /// [`crate::cgroup_parent`]).
    pub(crate) fn cgroup_parent(&self) -> PathBuf {
        crate::cgroup_parent(&self.root)
    }

    /// The cgroup of container `id` (`<parent>/<id>`), in every hierarchy.
    pub(crate) fn container_cgroup(&self, id: &str) -> PathBuf {
        self.cgroup_parent().join(id)
    }

    /// The daemon's lock file; it holds the pid of the daemon that owns the root.
    pub(crate) fn lock_file(&self) -> PathBuf {
        self.root.join("daemon.lock")
    }

    /// The engine's stable identity (`ID` in `/info`), created on first start.
    pub(crate) fn engine_id(&self) -> PathBuf {
        self.root.join("engine.json")
    }

    /// The image store's own root (see `image::ImageStore::open`).
    pub(crate) fn images(&self) -> PathBuf {
        self.root.join("image")
    }

    /// Trees removed but not yet deleted (see `state::Trash`).
    pub(crate) fn trash(&self) -> PathBuf {
        self.root.join("trash")
    }

    /// One directory per container: `containers/<id>/`.
    pub(crate) fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }

    /// `containers/<id>/`: everything of one container.
    pub(crate) fn container(&self, id: &str) -> PathBuf {
        self.containers().join(id)
    }

    /// `containers/<id>/container.json`: the daemon's record (name, config).
    pub(crate) fn container_record(&self, id: &str) -> PathBuf {
        self.container(id).join("container.json")
    }

    /// `containers/<id>/launch.json`: what the monitor runs.
    pub(crate) fn container_launch(&self, id: &str) -> PathBuf {
        self.container(id).join("launch.json")
    }

    /// `containers/<id>/state.json`: the monitor's record of the last run.
    pub(crate) fn container_state(&self, id: &str) -> PathBuf {
        self.container(id).join("state.json")
    }

    /// `containers/<id>/supervision.json`: the daemon's record across runs
    /// (restart count, manual stop, health).
    pub(crate) fn container_supervision(&self, id: &str) -> PathBuf {
        self.container(id).join("supervision.json")
    }

    /// `containers/<id>/<id>-json.log`: stdout and stderr in Docker's json-file format.
    pub(crate) fn container_log(&self, id: &str) -> PathBuf {
        self.container(id).join(format!("{id}-json.log"))
    }

    /// `containers/<id>/monitor.log`: the monitor's own diagnostics.
    pub(crate) fn container_monitor_log(&self, id: &str) -> PathBuf {
        self.container(id).join("monitor.log")
    }

    /// `containers/<id>/rootfs`: where the overlay is mounted while it runs.
    pub(crate) fn container_rootfs(&self, id: &str) -> PathBuf {
        self.container(id).join("rootfs")
    }

    /// `containers/<id>/upper` and `work`: the overlay's writable layer.
    pub(crate) fn container_upper(&self, id: &str) -> PathBuf {
        self.container(id).join("upper")
    }

    /// The overlay's work directory, beside the upper one.
    pub(crate) fn container_work(&self, id: &str) -> PathBuf {
        self.container(id).join("work")
    }

    /// The monitor's socket that hands out the container's standard input
    /// (the terminal's master side with a TTY), in the run directory so
    /// that the path stays short enough for a socket.
    pub(crate) fn container_stdin_socket(&self, id: &str) -> PathBuf {
        self.run.join(format!("{id}.stdin"))
    }

    /// The console socket on which the container's terminal arrives.
    pub(crate) fn container_console_socket(&self, id: &str) -> PathBuf {
        self.run.join(format!("{id}.console"))
    }

    /// libcontainer's state root (per boot, in the run directory).
    pub(crate) fn runtime_state(&self) -> PathBuf {
        self.run.join("runtime")
    }

    /// One directory per named volume: `volumes/<name>/`.
    pub(crate) fn volumes(&self) -> PathBuf {
        self.root.join("volumes")
    }

    /// `volumes/<name>/`: the volume's metadata and its data directory.
    pub(crate) fn volume(&self, name: &VolumeName) -> PathBuf {
        self.volumes().join(name.as_str())
    }

    /// `volumes/<name>/_data`: what containers mount, named as Docker names it.
    pub(crate) fn volume_data(&self, name: &VolumeName) -> PathBuf {
        self.volume(name).join("_data")
    }

    /// `volumes/<name>/volume.json`: labels, options and creation time.
    pub(crate) fn volume_record(&self, name: &VolumeName) -> PathBuf {
        self.volume(name).join("volume.json")
    }

    /// One JSON file per network: `networks/<id>.json`.
    pub(crate) fn networks(&self) -> PathBuf {
        self.root.join("networks")
    }

    /// `networks/<id>.json`: the network's record.
    pub(crate) fn network_record(&self, id: &str) -> PathBuf {
        self.networks().join(format!("{id}.json"))
    }

    /// `containers/<id>/endpoints.json`: the networks a container is to be
    /// attached to when it starts (its create request, then connect and
    /// disconnect).
    pub(crate) fn container_endpoints(&self, id: &str) -> PathBuf {
        self.container(id).join("endpoints.json")
    }

    /// `containers/<id>/network.json`: the running container's network
    /// (namespace, addresses, ports, files), written by the daemon before
    /// the monitor starts and read by it.
    pub(crate) fn container_network(&self, id: &str) -> PathBuf {
        self.container(id).join("network.json")
    }

    /// Network namespace files of running containers (per boot).
    pub(crate) fn netns_dir(&self) -> PathBuf {
        self.run.join("netns")
    }

    /// `netns/<id>`: the network namespace of a running container, a bind
    /// mount that keeps it alive between the daemon's setup and the
    /// container's start.
    pub(crate) fn container_netns(&self, id: &str) -> PathBuf {
        self.netns_dir().join(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_under_its_root() {
        let layout = Layout::new("/r".into(), "/run/x".into());
        let name = VolumeName::parse("data").unwrap();
        assert_eq!(
            layout.volume_data(&name),
            Path::new("/r/volumes/data/_data")
        );
        assert_eq!(
            layout.volume_record(&name),
            Path::new("/r/volumes/data/volume.json")
        );
        assert_eq!(layout.lock_file(), Path::new("/r/daemon.lock"));
        assert_eq!(layout.containers(), Path::new("/r/containers"));
        assert_eq!(layout.images(), Path::new("/r/image"));
        assert_eq!(layout.run_dir(), Path::new("/run/x"));
    }

    #[test]
    fn the_default_root_keeps_the_plain_cgroup_parent_and_others_get_a_tagged_one() {
        let default = Layout::new(crate::DEFAULT_ROOT.into(), "/run/stack".into());
        assert_eq!(default.cgroup_parent(), Path::new("/stack"));
        assert_eq!(default.container_cgroup("abc"), Path::new("/stack/abc"));
        let other = Layout::new("/var/lib/stack-bench/root".into(), "/run/x".into());
        let parent = other.cgroup_parent();
        let tag = crate::root_tag(Path::new("/var/lib/stack-bench/root")).unwrap();
        assert_eq!(tag.len(), 8);
        assert_eq!(parent, PathBuf::from(format!("/stack-{tag}")));
        // The same root, the same parent: containers are found again after
        // a restart of the daemon.
        assert_eq!(
            Layout::new("/var/lib/stack-bench/root".into(), "/run/y".into()).cgroup_parent(),
            parent
        );
        assert_ne!(
            Layout::new("/tmp/other".into(), "/run/x".into()).cgroup_parent(),
            parent
        );
    }
}
