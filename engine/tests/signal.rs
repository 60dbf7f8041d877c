//! SIGTERM stops the daemon cleanly. In a test binary of its own, because
//! the signal goes to the whole process.

use std::time::Duration;

use stack_engine::daemon::{self, DaemonConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_daemon_and_removes_its_socket() {
    let dir = tempfile::tempdir().unwrap();
    let config = DaemonConfig::new(dir.path().join("root"), dir.path().join("run"));
    let shutdown = daemon::termination_signal().unwrap();
    let task = tokio::spawn(daemon::run(config.clone(), shutdown));
    let mut answered = false;
    for _ in 0..500 {
        if std::os::unix::net::UnixStream::connect(&config.socket).is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(answered, "the daemon never answered");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let result = tokio::time::timeout(Duration::from_secs(15), task).await;
    result
        .expect("the daemon stops on SIGTERM")
        .unwrap()
        .unwrap();
    assert!(!config.socket.exists());
    // The lock is free again: a new daemon can take the root.
    let again = tokio::spawn(daemon::run(config.clone(), async {}));
    tokio::time::timeout(Duration::from_secs(15), again)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
