//! Giving up root for the checks that an unprivileged user cannot administer the dispatcher.

use std::io;

/// Becomes user `uid` with group `uid` and no supplementary groups. The order matters:
/// groups can only be dropped while still root.
pub fn become_user(uid: u32) -> io::Result<()> {
    // SAFETY: an empty list is passed with length 0, so no memory is read.
    if unsafe { libc::setgroups(0, std::ptr::null()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: setgid and setuid only change this process's credentials.
    let changed = unsafe { libc::setgid(uid) == 0 && libc::setuid(uid) == 0 };
    if changed {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
