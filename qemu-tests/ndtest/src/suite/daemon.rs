//! A process the guest's drivers start in a network namespace and own: it is ended (SIGTERM,
//! then SIGKILL) when its handle is dropped, so that nothing a scenario or an evaluation run
//! started outlives it, whichever way it ends.

use super::cluster::Outcome;
use std::fs::{self, File};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon has to end after SIGTERM before it is killed.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// A process in a namespace, ended when dropped.
pub struct Daemon {
    what: String,
    child: Child,
    /// Its exit has been collected: its pid may belong to another process by now.
    reaped: bool,
}

fn append_to(log: &str) -> Result<File, String> {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{log}: {e}"))
}

impl Daemon {
    /// Starts `args` in `ns`, its output appended to `log`.
    pub fn start(ns: &str, args: &[&str], log: &str) -> Result<Daemon, String> {
        let output = append_to(log)?;
        let errors = output.try_clone().map_err(|e| format!("{log}: {e}"))?;
        Daemon::spawn(ns, args, output.into(), errors.into())
    }

    /// Starts `args` in `ns`, its standard output written to `report` (a file made anew)
    /// and its errors to the guest's console.
    pub fn start_reporting(ns: &str, args: &[&str], report: &str) -> Result<Daemon, String> {
        let output = File::create(report).map_err(|e| format!("{report}: {e}"))?;
        Daemon::spawn(ns, args, output.into(), Stdio::inherit())
    }

    fn spawn(ns: &str, args: &[&str], output: Stdio, errors: Stdio) -> Result<Daemon, String> {
        let what = format!("{} in {ns}", args.join(" "));
        let child = Command::new("/sbin/ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Daemon {
            what,
            child,
            reaped: false,
        })
    }

    /// Sends `signal` (`ip netns exec` execs the command, so the child is the daemon itself).
    pub fn signal(&self, signal: i32) -> Outcome {
        if self.reaped {
            return Err(format!("{} has exited", self.what));
        }
        let pid = i32::try_from(self.child.id()).map_err(|e| e.to_string())?;
        // SAFETY: kill(2) on our own child's pid, not yet reaped so not reused, has no
        // memory-safety preconditions.
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(format!(
                "signal {signal} to {}: {}",
                self.what,
                std::io::Error::last_os_error()
            ))
        }
    }

    /// How it exited, if it has.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, String> {
        let status = self
            .child
            .try_wait()
            .map_err(|e| format!("{}: {e}", self.what))?;
        self.reaped |= status.is_some();
        Ok(status)
    }

    /// Fails if the daemon has exited.
    pub fn alive(&mut self) -> Outcome {
        match self.exited()? {
            None => Ok(()),
            Some(status) => Err(format!("{} exited: {status}", self.what)),
        }
    }

    /// What it runs, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        let _ = self.signal(libc::SIGTERM);
        let deadline = Instant::now() + TERM_GRACE;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
