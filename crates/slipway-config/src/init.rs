//! `slipway init`: a commented `slipway.toml` for an existing function folder.

use std::path::Path;

/// What `init` found in the function folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Detected {
    pub name: String,
    /// `module.function`, when a handler was found.
    pub handler: Option<String>,
    /// The dependency file, relative to the folder.
    pub requirements: Option<String>,
}

/// Conventional handler files, in the order Lambda tutorials use them.
const HANDLER_FILES: &[&str] = &[
    "lambda_function.py",
    "app.py",
    "handler.py",
    "main.py",
    "index.py",
];
const HANDLER_NAMES: &[&str] = &["lambda_handler", "handler", "main"];
/// The dependency files slipway reads; uv.lock first because it pins the most.
const DEPENDENCY_FILES: &[&str] = &["uv.lock", "requirements.txt", "pyproject.toml"];

/// Looks at `dir` and reports what a configuration for it should say.
pub fn detect(dir: &Path) -> Detected {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|n| sanitize_name(&n))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "function".into());
    let handler = HANDLER_FILES.iter().find_map(|file| {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        let module = file.trim_end_matches(".py");
        HANDLER_NAMES
            .iter()
            .find(|f| {
                text.lines().any(|l| {
                    l.starts_with(&format!("def {f}(")) || l.starts_with(&format!("async def {f}("))
                })
            })
            .map(|f| format!("{module}.{f}"))
    });
    let requirements = DEPENDENCY_FILES
        .iter()
        .find(|f| dir.join(f).is_file())
        .map(|f| f.to_string());
    Detected {
        name,
        handler,
        requirements,
    }
}

fn sanitize_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(crate::limits::FUNCTION_NAME_MAX)
        .collect()
}

/// The text of a new `slipway.toml` for the detected function.
pub fn render(d: &Detected) -> String {
    let handler = d.handler.clone().unwrap_or_else(|| "app.handler".into());
    let handler_note = if d.handler.is_some() {
        "found in the folder"
    } else {
        "no handler found: point this at `module.function`"
    };
    let requirements = match &d.requirements {
        Some(r) => format!("requirements = \"{r}\"                # dependencies, resolved for the target runtime"),
        None => "# requirements = \"requirements.txt\"   # a requirements.txt, pyproject.toml or uv.lock".into(),
    };
    format!(
        r#"# slipway.toml: how slipway builds and deploys the functions in this folder.
# Paths are relative to this file. See the README for every key.
# Functions described by an AWS SAM template instead: `sam = "template.yaml"`
# in place of the tables below (slipway.toml then keeps only what SAM cannot say).

[defaults]
runtime = "python3.13"              # python3.12–3.14 are current; 3.9–3.11 are deprecated
architecture = "x86_64"             # or "arm64"
memory = 128                        # MB, 128–10240
timeout = 30                        # seconds, at most 900

[functions.{name}]
source = "."                        # the folder whose files go into the package
handler = "{handler}"{pad}# {handler_note}
{requirements}
# role = "arn:aws:iam::123456789012:role/{name}-exec"  # the execution role, created outside slipway
# environment = {{ LOG_LEVEL = "info" }}
# exclude = ["tests/**"]
# exclude_packages = ["boto3", "botocore"]               # provided by the runtime
"#,
        name = d.name,
        pad = " ".repeat(24usize.saturating_sub(handler.len() + 2).max(1)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_handler_and_dependencies_and_renders_valid_config() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("orders");
        std::fs::create_dir(&f).unwrap();
        std::fs::write(
            f.join("app.py"),
            "import json\n\ndef handler(event, context):\n    return 1\n",
        )
        .unwrap();
        std::fs::write(f.join("requirements.txt"), "requests\n").unwrap();
        let d = detect(&f);
        assert_eq!(d.name, "orders");
        assert_eq!(d.handler.as_deref(), Some("app.handler"));
        assert_eq!(d.requirements.as_deref(), Some("requirements.txt"));
        let text = render(&d);
        std::fs::write(f.join("slipway.toml"), &text).unwrap();
        let project = crate::load_file(&f.join("slipway.toml")).unwrap();
        assert_eq!(project.functions["orders"].handler, "app.handler");
    }
}
