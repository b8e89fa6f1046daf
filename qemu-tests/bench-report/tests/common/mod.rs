//! What the evaluation report's tests share: a scratch directory, a run of the report on
//! results written there, and a look at what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An empty directory of its own for the test `name` of the suite `suite`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `nd-evaluation-report` on the results `json`, written into `dir`, with `dir` as its
/// output.
pub fn render(dir: &Path, json: &str) -> Output {
    let input = dir.join("results.json");
    std::fs::write(&input, json).unwrap();
    Command::new(env!("CARGO_BIN_EXE_nd-evaluation-report"))
        .arg("--results")
        .arg(&input)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap()
}

pub fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.get(1..4) == Some(b"PNG"))
}
