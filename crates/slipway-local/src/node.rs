//! The machine's Node.js, for running `nodejsNN.x` functions.

use std::path::{Path, PathBuf};

use crate::LocalError;

/// `node` (or `explicit`) and its major version. A major other than the
/// runtime's is the caller's to warn about: the code usually runs, but
/// Lambda's behaviour is the runtime's version's.
pub fn discover(runtime: &str, explicit: Option<&Path>) -> Result<(PathBuf, u32), LocalError> {
    let path = explicit.map_or_else(|| PathBuf::from("node"), Path::to_path_buf);
    let fail = |message: String| LocalError::Node {
        runtime: runtime.to_string(),
        message,
    };
    let out = std::process::Command::new(&path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let major = text
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
        .filter(|_| out.status.success())
        .ok_or_else(|| fail(format!("{} --version answered `{text}`", path.display())))?;
    Ok((path, major))
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_machines_node() {
        let (_, major) = super::discover("nodejs22.x", None).unwrap();
        assert!(major >= 18, "{major}");
        assert!(super::discover("nodejs22.x", Some("/nonexistent/node".as_ref())).is_err());
    }
}
