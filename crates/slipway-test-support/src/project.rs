//! A slipway command in an isolated environment and small projects written
//! on the fly.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// `slipway` with an environment that cannot leak from the developer's machine:
/// its own cache folder, no index, signing or AWS settings inherited.
pub fn slipway(cwd: &Path) -> Command {
    Command::from_std(process(cwd))
}

/// [`slipway`] as a plain process, for tests that spawn, signal or limit it.
pub fn process(cwd: &Path) -> std::process::Command {
    #[allow(deprecated)]
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("slipway"));
    cmd.current_dir(cwd);
    for var in [
        "SLIPWAY_CONFIG",
        "SLIPWAY_SAM",
        "SOURCE_DATE_EPOCH",
        "SLIPWAY_SIGNING_KEY",
        "AWS_PROFILE",
        "AWS_REGION",
    ] {
        cmd.env_remove(var);
    }
    for var in slipway_python::sources::INDEX_VARS {
        cmd.env_remove(var);
    }
    cmd.env("SLIPWAY_CACHE_DIR", cwd.join(".test-cache"));
    cmd
}

/// `slipway --format json build ARGS…` in `p`, which must succeed; its JSON report.
pub fn build_json(p: &Project, args: &[&str]) -> serde_json::Value {
    command_json(p, "build", args)
}

/// `slipway --format json COMMAND ARGS…` in `p`, which must succeed; its JSON report.
pub fn command_json(p: &Project, command: &str, args: &[&str]) -> serde_json::Value {
    let out = p
        .slipway()
        .args(["--format", "json", command])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json_stdout(&out)
}

/// A temporary project folder.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Default for Project {
    fn default() -> Project {
        Project::new()
    }
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `content` at `rel`, creating folders.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    /// A one-function project: `hello` in `src/` with a Python handler.
    pub fn hello() -> Project {
        let p = Project::new();
        p.write(
            "slipway.toml",
            "[defaults]\nruntime = \"python3.12\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\n",
        );
        p.write(
            "src/app.py",
            "def handler(event, context):\n    return {\"ok\": True}\n",
        );
        p
    }

    pub fn slipway(&self) -> Command {
        slipway(self.path())
    }
}

/// Parses stdout of a `--format json` run.
pub fn json_stdout(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}
