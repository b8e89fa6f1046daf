//! `examples/ha/nd-notify.sh`, keepalived's notify script, against a stand-in `ndadm` that
//! records its arguments.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("examples/ha/nd-notify.sh")
}

/// A scratch directory with a stand-in `ndadm` that appends its arguments to `calls` and
/// fails while the file `fail` exists.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("nd-notify-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ndadm = dir.join("ndadm");
        std::fs::write(
            &ndadm,
            format!(
                "#!/bin/sh\n[ -e {dir}/fail ] && {{ echo 'the nd module is not loaded' >&2; exit 1; }}\n\
                 echo \"$*\" >>{dir}/calls\n",
                dir = dir.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&ndadm, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }

    fn notify(&self, state: &str) -> Output {
        Command::new("sh")
            .arg(script())
            .arg(state)
            .env("NDADM", self.0.join("ndadm"))
            .env("ND_NOTIFY_STATE", self.0.join("state"))
            .env("ND_NOTIFY_ATTEMPTS", "2")
            .output()
            .unwrap()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.0.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn master_makes_the_executor_active_and_every_other_state_standby() {
    let scratch = Scratch::new("states");
    for state in ["master", "backup", "fault", "stop", "master", "master"] {
        let output = scratch.notify(state);
        assert!(output.status.success(), "{state}: {output:?}");
    }
    assert_eq!(
        scratch.calls(),
        [
            "ha role active",
            "ha role standby",
            "ha role standby",
            "ha role standby",
            "ha role active",
            "ha role active"
        ]
    );
    let stderr = String::from_utf8(scratch.notify("backup").stderr).unwrap();
    assert!(
        stderr.contains("keepalived says backup: the Executor is standby"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_state_is_a_usage_error_and_nothing_is_changed() {
    let scratch = Scratch::new("usage");
    let output = scratch.notify("promote");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr).unwrap().contains("usage"));
    assert!(scratch.calls().is_empty());
}

#[test]
fn a_failing_ndadm_is_retried_then_reported() {
    let scratch = Scratch::new("failing");
    std::fs::write(scratch.0.join("fail"), "").unwrap();
    let output = scratch.notify("master");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("cannot make the Executor active: the nd module is not loaded"),
        "{stderr}"
    );
    assert!(scratch.calls().is_empty());
}
