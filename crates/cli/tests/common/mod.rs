//! What the process-level tests share: the `omadm` binary, scratch directories, servers and
//! agents as child processes, and the bootstrap that gives an agent its DM account.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_omadm");

pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh scratch directory, removed with its contents when dropped; it reads as its path.
pub struct Scratch(tempfile::TempDir);

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<OsStr> for Scratch {
    fn as_ref(&self) -> &OsStr {
        self.0.path().as_os_str()
    }
}

pub fn dir(name: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("omadm-proc-{name}-"))
            .tempdir()
            .unwrap(),
    )
}

/// The text of a file another process writes, once it contains `needle` (or after 5 s).
pub fn file_once_it_has(path: &std::path::Path, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    text
}

/// Reads lines until one starts with `prefix`; returns the rest of it.
pub fn line_after(out: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "no line {prefix:?}");
        if let Some(rest) = line.trim_end().strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
}

/// The device id an agent makes on its first start (without a push port it exits at once).
pub fn device_id(agent_dir: &std::path::Path) -> String {
    let first = Command::new(BIN)
        .args(["agent", "--state", agent_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(first.status.success());
    std::fs::read_to_string(agent_dir.join("dev-id"))
        .unwrap()
        .trim()
        .to_owned()
}

/// `omadm server` on `listen` with state in `srv_dir`, secret `srv-secret` and the device
/// `dev_id` (`dev`/`dev-secret`), plus `extra` arguments; its stdout to read.
pub fn start_server(
    listen: &str,
    srv_dir: &std::path::Path,
    dev_id: &str,
    extra: &[&str],
) -> (Killed, BufReader<ChildStdout>) {
    let mut server = Killed(
        Command::new(BIN)
            .args(["server", "--listen", listen, "--state"])
            .arg(srv_dir)
            .args(["--server-password", "srv-secret"])
            .args(["--device", &format!("{dev_id}=dev:dev-secret")])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let out = BufReader::new(server.0.stdout.take().unwrap());
    (server, out)
}

/// `omadm agent --state DIR ARGS...` running, with its stdout to read.
pub fn spawn_agent(state: &std::path::Path, args: &[&str]) -> (Killed, BufReader<ChildStdout>) {
    let mut agent = Killed(
        Command::new(BIN)
            .args(["agent", "--state"])
            .arg(state)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let out = BufReader::new(agent.0.stdout.take().unwrap());
    (agent, out)
}

/// Sends the bootstrap of the `omadm-reference` account (secret `srv-secret`, device
/// `dev`/`dev-secret`) to an agent's push port.
pub fn bootstrap(push: &str, url: &str, pin: &str) {
    notify(&[
        "--to",
        push,
        "--bootstrap",
        "--server-id",
        "omadm-reference",
        "--password",
        "srv-secret",
        "--url",
        url,
        "--pin",
        pin,
        "--device-name",
        "dev",
        "--device-password",
        "dev-secret",
    ]);
}

/// Sends the `omadm-reference` server's notification for `session_id` to a push port.
pub fn notify_session(port: &str, session_id: &str) {
    notify(&[
        "--to",
        port,
        "--server-id",
        "omadm-reference",
        "--password",
        "srv-secret",
        "--session-id",
        session_id,
    ]);
}

pub fn notify(args: &[&str]) {
    let out = Command::new(BIN).arg("notify").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
