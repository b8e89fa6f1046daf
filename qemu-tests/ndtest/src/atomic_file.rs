//! Files other processes read while they change (reports, an emulated server's load and
//! statistics), written so that a reader never sees one half-written.

use std::io;
use std::path::Path;

/// Writes `text` and a newline to `path` via a rename of a file beside it: a reader sees
/// the old contents or the new, never a mix.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, format!("{text}\n"))?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_contents_and_leaves_nothing_beside() {
        let dir = std::env::temp_dir().join(format!("ndtest-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("load");
        write_atomically(&path, "3.5").unwrap();
        write_atomically(&path, "4").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "4\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomically(&dir.join("missing/load"), "1").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
