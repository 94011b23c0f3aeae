//! `dotnet publish` with the settings Lambda's managed runtime expects.

use std::path::{Path, PathBuf};
use std::process::Command;

use slipway_config::Architecture;
use slipway_package::{EntryData, ZipEntry};

use crate::DotNetError;

const PROJECT_EXTENSIONS: [&str; 3] = ["csproj", "fsproj", "vbproj"];

/// The project file at the root of `source`, if it holds one.
pub fn project(source: &Path) -> Result<Option<PathBuf>, DotNetError> {
    let read = std::fs::read_dir(source).map_err(|e| DotNetError::Io {
        action: "list",
        path: source.to_path_buf(),
        source: e,
    })?;
    let mut found: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| PROJECT_EXTENSIONS.contains(&e))
        })
        .collect();
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        count => Err(DotNetError::WhichProject {
            source_dir: source.to_path_buf(),
            count,
            names: found
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The runtime identifier of an architecture.
pub fn rid(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "linux-x64",
        Architecture::Arm64 => "linux-arm64",
    }
}

/// `dotnet` arguments that publish `project` into `out` for Lambda:
/// Release, the architecture's RID, framework-dependent (the runtime brings
/// .NET), runtime configuration generated, deterministic CI build (no
/// absolute source paths in PDBs, no build-time stamps).
pub fn arguments(project: &Path, out: &Path, architecture: Architecture) -> Vec<String> {
    vec![
        "publish".into(),
        project.display().to_string(),
        "-c".into(),
        "Release".into(),
        "-r".into(),
        rid(architecture).into(),
        "--self-contained".into(),
        "false".into(),
        "-p:GenerateRuntimeConfigurationFiles=true".into(),
        "-p:Deterministic=true".into(),
        "-p:ContinuousIntegrationBuild=true".into(),
        "-o".into(),
        out.display().to_string(),
    ]
}

fn dotnet_on_path() -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join("dotnet"))
        .find(|p| p.is_file())
}

/// `dotnet --version`, when the SDK is installed.
pub fn sdk_version() -> Option<String> {
    let dotnet = dotnet_on_path()?;
    let out = Command::new(dotnet).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Publishes `project` into a private folder and reads the output as
/// package entries (paths relative to the publish folder).
pub fn publish(
    source: &Path,
    project: &Path,
    architecture: Architecture,
    major: u32,
) -> Result<Vec<ZipEntry>, DotNetError> {
    let Some(dotnet) = dotnet_on_path() else {
        return Err(DotNetError::NoSdk {
            source_dir: source.to_path_buf(),
            project: project.to_path_buf(),
            major,
        });
    };
    let out = tempfile::Builder::new()
        .prefix("slipway-dotnet-publish-")
        .tempdir()
        .map_err(|e| DotNetError::Io {
            action: "create a publish folder in",
            path: std::env::temp_dir(),
            source: e,
        })?;
    let args = arguments(project, out.path(), architecture);
    let output = Command::new(&dotnet)
        .args(&args)
        .current_dir(source)
        // No first-run banner or telemetry in a build tool's output.
        .env("DOTNET_NOLOGO", "1")
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .map_err(|e| DotNetError::Io {
            action: "run",
            path: dotnet.clone(),
            source: e,
        })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        return Err(DotNetError::PublishFailed {
            command: format!("dotnet {}", args.join(" ")),
            output: text.trim_end().to_owned(),
        });
    }
    read_folder(out.path())
}

/// Every file under `root` as an in-memory entry (the folder is temporary).
pub fn read_folder(root: &Path) -> Result<Vec<ZipEntry>, DotNetError> {
    use std::os::unix::fs::PermissionsExt;
    let mut entries = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let read = std::fs::read_dir(&dir).map_err(|e| DotNetError::Io {
            action: "list",
            path: dir.clone(),
            source: e,
        })?;
        for item in read {
            let item = item.map_err(|e| DotNetError::Io {
                action: "list",
                path: dir.clone(),
                source: e,
            })?;
            let path = item.path();
            let meta = std::fs::metadata(&path).map_err(|e| DotNetError::Io {
                action: "read",
                path: path.clone(),
                source: e,
            })?;
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| DotNetError::Io {
                action: "read",
                path: path.clone(),
                source: e,
            })?;
            let relative = path
                .strip_prefix(root)
                .expect("walked from root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            entries.push(ZipEntry {
                path: relative,
                executable: meta.permissions().mode() & 0o111 != 0,
                data: EntryData::Bytes(bytes),
                origin: slipway_artifact::EntryOrigin::Source,
            });
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_uses_lambdas_settings() {
        let args = arguments(
            Path::new("Api.csproj"),
            Path::new("/o"),
            Architecture::Arm64,
        );
        assert_eq!(
            args.join(" "),
            "publish Api.csproj -c Release -r linux-arm64 --self-contained false -p:GenerateRuntimeConfigurationFiles=true -p:Deterministic=true -p:ContinuousIntegrationBuild=true -o /o"
        );
        assert_eq!(rid(Architecture::X86_64), "linux-x64");
    }

    #[test]
    fn one_project_is_found_and_two_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(project(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join("Api.csproj"), "<Project/>").unwrap();
        assert_eq!(
            project(dir.path()).unwrap(),
            Some(dir.path().join("Api.csproj"))
        );
        std::fs::write(dir.path().join("Other.fsproj"), "<Project/>").unwrap();
        let e = project(dir.path()).unwrap_err();
        assert!(e.to_string().contains("Api.csproj, Other.fsproj"), "{e}");
    }
}
