//! Running a metric's command: `/bin/sh -c COMMAND`, bounded in time and output, and the
//! first number it prints.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time;

use crate::config::show_duration;

/// The most of a command's output read.
const OUTPUT_BOUND: u64 = 64 * 1024;

/// Why a command gave no value.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The shell could not be started.
    #[error("cannot start /bin/sh: {0}")]
    Spawn(#[from] io::Error),
    /// It ran longer than its timeout and was killed.
    #[error("still running after {}, killed", show_duration(*.0))]
    TimedOut(Duration),
    /// It failed.
    #[error("{status}{}", stderr_suffix(.stderr))]
    Failed {
        /// How it ended.
        status: ExitStatus,
        /// The start of what it wrote to standard error.
        stderr: String,
    },
    /// It printed no number.
    #[error("no number in its output {0:?}")]
    NoNumber(String),
}

fn stderr_suffix(stderr: &str) -> String {
    match stderr.trim() {
        "" => String::new(),
        text => format!(": {}", text.chars().take(200).collect::<String>()),
    }
}

/// The first number in `text`: an optional sign, digits with an optional fraction, and an
/// optional exponent, wherever it starts (`load: 0.52`, `12%`, `-3e2`). `None` if there is
/// none, or if it is too large to be finite.
pub fn first_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let digits_from = |mut at: usize| {
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        at
    };
    let mut start = 0;
    while start < bytes.len() {
        let mut at = start;
        if matches!(bytes[at], b'+' | b'-') {
            at += 1;
        }
        let integer_end = digits_from(at);
        let mut end = integer_end;
        if end < bytes.len() && bytes[end] == b'.' {
            let fraction_end = digits_from(end + 1);
            if fraction_end > end + 1 || integer_end > at {
                end = fraction_end;
            }
        }
        let has_digits = bytes[at..end].iter().any(u8::is_ascii_digit);
        if has_digits {
            if end < bytes.len() && matches!(bytes[end], b'e' | b'E') {
                let mut exponent = end + 1;
                if exponent < bytes.len() && matches!(bytes[exponent], b'+' | b'-') {
                    exponent += 1;
                }
                let exponent_end = digits_from(exponent);
                if exponent_end > exponent {
                    end = exponent_end;
                }
            }
            let value: f64 = text[start..end].parse().ok()?;
            return value.is_finite().then_some(value);
        }
        start += 1;
    }
    None
}

async fn read_bounded(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut output = Vec::new();
    if let Some(pipe) = pipe {
        // A read error leaves what was read; the exit status tells whether the command failed.
        let _ = pipe.take(OUTPUT_BOUND).read_to_end(&mut output).await;
    }
    output
}

/// Runs `command` with `/bin/sh -c` and returns the first number it prints. A command still
/// running after `timeout` is killed with everything it started.
pub async fn run_command(command: &str, timeout: Duration) -> Result<f64, CommandError> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout kills the shell's children too.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let finished = time::timeout(timeout, async {
        tokio::join!(read_bounded(stdout), read_bounded(stderr), child.wait())
    })
    .await;
    let (stdout, stderr, status) = match finished {
        Ok(finished) => finished,
        Err(_) => {
            kill_group(&child);
            let _ = child.wait().await;
            return Err(CommandError::TimedOut(timeout));
        }
    };
    let status = status?;
    if !status.success() {
        return Err(CommandError::Failed {
            status,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        });
    }
    let stdout = String::from_utf8_lossy(&stdout);
    first_number(&stdout)
        .ok_or_else(|| CommandError::NoNumber(stdout.chars().take(80).collect::<String>()))
}

/// Sends SIGKILL to the process group `child` leads.
fn kill_group(child: &tokio::process::Child) {
    let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of this process; the group
    // is the child's own (process_group(0)) and the child has not been reaped, so its id has
    // not been reused.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn finds_the_first_number_wherever_it_is() {
        let cases = [
            ("12\n", Some(12.0)),
            ("0.52 0.58 0.59 1/389 12345\n", Some(0.52)),
            ("load: 3.5%", Some(3.5)),
            ("temp=-4.25C", Some(-4.25)),
            ("1.5e3 requests", Some(1500.0)),
            ("version v2.", Some(2.0)),
            (".5", Some(0.5)),
            ("e - . +", None),
            ("", None),
            ("1e999", None),
        ];
        for (text, expected) in cases {
            assert_eq!(first_number(text), expected, "{text:?}");
        }
    }

    #[tokio::test]
    async fn a_command_value_is_its_first_number() {
        let value = run_command("echo 'load 7.25'", Duration::from_secs(10)).await;
        assert_eq!(value.unwrap(), 7.25);
    }

    #[tokio::test]
    async fn a_failing_command_gives_its_status_and_error_output() {
        let error = run_command("echo broken >&2; exit 3", Duration::from_secs(10))
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "exit status: 3: broken");
    }

    #[tokio::test]
    async fn output_without_a_number_is_an_error() {
        let error = run_command("echo none", Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(
            matches!(error, CommandError::NoNumber(ref out) if out == "none\n"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_overrunning_command_and_its_children_are_killed() {
        let marker = std::env::temp_dir().join(format!("nd-agent-kill-{}", std::process::id()));
        let _ = std::fs::remove_file(&marker);
        let command = format!("sleep 2 && touch {} & sleep 30; echo 1", marker.display());
        let started = Instant::now();
        let error = run_command(&command, Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(error, CommandError::TimedOut(_)), "{error}");
        // Without the kill, waiting for the shell would take the whole 30 s.
        assert!(started.elapsed() < Duration::from_secs(20));
        // The backgrounded child was in the same group: it never gets to touch the file.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!marker.exists(), "a child of the killed command survived");
    }
}
