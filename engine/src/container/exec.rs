//! Exec instances (`docker exec`): created by one request, started by
//! another, inspected until the daemon stops. Like Docker's, they live in
//! the daemon's memory only.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard};

use bollard_stubs::models::ExecConfig;
use tokio::sync::watch;

/// One exec instance.
pub(crate) struct ExecInstance {
    /// 64 hex digits.
    pub(crate) id: String,
    /// The container it runs in.
    pub(crate) container_id: String,
    /// What was asked for.
    pub(crate) config: ExecConfig,
    /// Its progress; waiters see each change.
    pub(crate) state: watch::Sender<ExecState>,
    /// The terminal's master side while a TTY process runs (for resizes).
    pub(crate) master: Mutex<Option<Arc<OwnedFd>>>,
}

/// Where an exec instance is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ExecState {
    /// A start was requested (a second one is refused).
    pub(crate) started: bool,
    /// Its process runs.
    pub(crate) running: bool,
    /// The process's host pid, once started.
    pub(crate) pid: i64,
    /// Its exit code, once it ended.
    pub(crate) exit_code: Option<i64>,
}

/// Every exec instance of the daemon.
#[derive(Default)]
pub(crate) struct Execs {
    instances: Mutex<HashMap<String, Arc<ExecInstance>>>,
}

impl Execs {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<ExecInstance>>> {
        // Every change is a single insert or removal.
        self.instances.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a new instance.
    pub(crate) fn insert(&self, instance: ExecInstance) -> Arc<ExecInstance> {
        let instance = Arc::new(instance);
        self.lock().insert(instance.id.clone(), instance.clone());
        instance
    }

    /// The instance `id` names.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<ExecInstance>> {
        self.lock().get(id).cloned()
    }

    /// Forgets the instances of a removed container.
    pub(crate) fn remove_container(&self, container_id: &str) {
        self.lock().retain(|_, e| e.container_id != container_id);
    }
}

impl ExecInstance {
    /// Its state now.
    pub(crate) fn snapshot(&self) -> ExecState {
        self.state.borrow().clone()
    }
}
