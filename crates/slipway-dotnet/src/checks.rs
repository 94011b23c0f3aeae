//! What Lambda's .NET runtime needs of a package, checked before it ships.

use std::collections::BTreeMap;
use std::path::PathBuf;

use slipway_config::Runtime;
use slipway_package::select::SelectedFile;
use slipway_package::{EntryData, ZipEntry};

use crate::{DotNetError, Handler};

/// The package's root files, readable by path.
pub struct Package<'a> {
    files: BTreeMap<&'a str, Content<'a>>,
}

enum Content<'a> {
    Disk(PathBuf),
    Memory(&'a [u8]),
}

impl<'a> Package<'a> {
    /// Files selected from a publish folder.
    pub fn from_files(files: &'a [SelectedFile]) -> Package<'a> {
        Package {
            files: files
                .iter()
                .map(|f| (f.zip_path.as_str(), Content::Disk(f.disk_path.clone())))
                .collect(),
        }
    }

    /// Entries slipway published itself.
    pub fn from_entries(entries: &'a [ZipEntry]) -> Package<'a> {
        Package {
            files: entries
                .iter()
                .filter_map(|e| {
                    let content = match &e.data {
                        EntryData::File(p) => Content::Disk(p.clone()),
                        EntryData::Bytes(b) => Content::Memory(b),
                        EntryData::Hashed { content, .. } => Content::Memory(content),
                        EntryData::Precompressed(_) => return None,
                    };
                    Some((e.path.as_str(), content))
                })
                .collect(),
        }
    }

    fn has(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    fn read(&self, path: &str) -> Result<String, DotNetError> {
        match self.files.get(path) {
            Some(Content::Memory(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
            Some(Content::Disk(p)) => {
                std::fs::read_to_string(p).map_err(|source| DotNetError::Io {
                    action: "read",
                    path: p.clone(),
                    source,
                })
            }
            None => unreachable!("checked with has()"),
        }
    }

    /// Root assemblies that have a `.deps.json`: what a handler could name.
    fn published_assemblies(&self) -> Vec<&str> {
        self.files
            .keys()
            .filter(|p| !p.contains('/'))
            .filter_map(|p| p.strip_suffix(".deps.json"))
            .collect()
    }
}

/// The handler assembly's `deps.json`, read.
#[derive(Debug)]
pub struct DepsFile {
    /// Its package path, for messages.
    pub name: String,
    pub text: String,
}

/// The handler's assembly, its `.deps.json` and `.runtimeconfig.json` are at
/// the package root, and the runtimeconfig's framework is the runtime's.
pub fn check(
    package: &Package,
    handler: &Handler,
    runtime: &Runtime,
) -> Result<DepsFile, DotNetError> {
    let assembly = handler.assembly();
    let published = package.published_assemblies();
    let point_at = if published.is_empty() {
        "the package holds no `*.deps.json`: point `source` at the folder `dotnet publish` wrote (bin/Release/netX.0/linux-x64/publish), or at the project".to_string()
    } else {
        format!(
            "assemblies published here: {}; fix `handler`, or point `source` at the function's publish folder",
            published.join(", ")
        )
    };
    for (file, what) in [
        (format!("{assembly}.dll"), "assembly"),
        (format!("{assembly}.deps.json"), "dependency manifest"),
        (
            format!("{assembly}.runtimeconfig.json"),
            "runtime configuration",
        ),
    ] {
        if !package.has(&file) {
            let help = if file.ends_with(".runtimeconfig.json") && published.contains(&assembly) {
                "publish with `-p:GenerateRuntimeConfigurationFiles=true` (or set it in the project); Lambda's runtime reads the framework from it".to_string()
            } else {
                point_at.clone()
            };
            return Err(DotNetError::Missing {
                assembly: assembly.to_owned(),
                missing: format!("{what} {file}"),
                help,
            });
        }
    }
    let config_name = format!("{assembly}.runtimeconfig.json");
    check_runtimeconfig(&config_name, &package.read(&config_name)?, runtime)?;
    let name = format!("{assembly}.deps.json");
    let text = package.read(&name)?;
    Ok(DepsFile { name, text })
}

/// `runtimeOptions.tfm` (`net8.0`) and the `Microsoft.NETCore.App`
/// framework's major version must be the runtime's.
pub fn check_runtimeconfig(file: &str, text: &str, runtime: &Runtime) -> Result<(), DotNetError> {
    let major = runtime
        .dotnet_major()
        .ok_or_else(|| DotNetError::NotDotNet {
            runtime: runtime.id.to_string(),
        })?;
    let expected = format!("net{major}.0");
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| DotNetError::BadFile {
        file: format!("{file}:{}", e.line()),
        message: e.to_string(),
        help: "publish again; the SDK writes this file".into(),
    })?;
    let options = &json["runtimeOptions"];
    let mismatch = |key: &str, found: &str| DotNetError::Framework {
        file: file.to_owned(),
        key: key.to_owned(),
        found: found.to_owned(),
        expected: expected.clone(),
        runtime: runtime.id.to_string(),
    };
    if let Some(tfm) = options["tfm"].as_str()
        && tfm != expected
    {
        return Err(mismatch("runtimeOptions.tfm", tfm));
    }
    let frameworks: Vec<&serde_json::Value> = match (&options["framework"], &options["frameworks"])
    {
        (serde_json::Value::Object(_), _) => vec![&options["framework"]],
        (_, serde_json::Value::Array(list)) => list.iter().collect(),
        _ => Vec::new(),
    };
    if frameworks.is_empty() {
        let help = if options.get("includedFrameworks").is_some() {
            "this is a self-contained publish: Lambda's managed .NET runtime brings the framework, so publish with `--self-contained false` (a self-contained app runs on provided.al2023 with a `bootstrap`)"
        } else {
            "publish again with `-p:GenerateRuntimeConfigurationFiles=true`"
        };
        return Err(DotNetError::BadFile {
            file: file.to_owned(),
            message: "`runtimeOptions` names no framework".into(),
            help: help.into(),
        });
    }
    for (i, fw) in frameworks.iter().enumerate() {
        if fw["name"] != "Microsoft.NETCore.App" {
            continue;
        }
        let version = fw["version"].as_str().unwrap_or("");
        let fw_major = version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        if fw_major != Some(major) {
            let key = if options["framework"].is_object() {
                "runtimeOptions.framework.version".to_string()
            } else {
                format!("runtimeOptions.frameworks[{i}].version")
            };
            return Err(mismatch(&key, version));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dotnet8() -> &'static Runtime {
        Runtime::find("dotnet8").unwrap()
    }

    #[test]
    fn runtimeconfig_framework_must_match_the_runtime() {
        let ok = r#"{"runtimeOptions":{"tfm":"net8.0","framework":{"name":"Microsoft.NETCore.App","version":"8.0.0"}}}"#;
        check_runtimeconfig("A.runtimeconfig.json", ok, dotnet8()).unwrap();
        let e = check_runtimeconfig(
            "A.runtimeconfig.json",
            &ok.replace("net8.0", "net10.0"),
            dotnet8(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "A.runtimeconfig.json: `runtimeOptions.tfm` is `net10.0`, but dotnet8 runs net8.0"
        );
        let e = check_runtimeconfig(
            "A.runtimeconfig.json",
            r#"{"runtimeOptions":{"frameworks":[{"name":"Microsoft.NETCore.App","version":"10.0.0"},{"name":"Microsoft.AspNetCore.App","version":"10.0.0"}]}}"#,
            dotnet8(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("`runtimeOptions.frameworks[0].version` is `10.0.0`"),
            "{e}"
        );
        check_runtimeconfig(
            "A.runtimeconfig.json",
            r#"{"runtimeOptions":{"tfm":"net10.0","frameworks":[{"name":"Microsoft.NETCore.App","version":"10.0.0"},{"name":"Microsoft.AspNetCore.App","version":"10.0.0"}]}}"#,
            Runtime::find("dotnet10").unwrap(),
        )
        .unwrap();
        let e = check_runtimeconfig(
            "A.runtimeconfig.json",
            r#"{"runtimeOptions":{"tfm":"net8.0","includedFrameworks":[{"name":"Microsoft.NETCore.App","version":"8.0.0"}]}}"#,
            dotnet8(),
        )
        .unwrap_err();
        assert!(
            miette::Diagnostic::help(&e)
                .unwrap()
                .to_string()
                .contains("self-contained")
        );
        let e = check_runtimeconfig("A.runtimeconfig.json", "{\n  oops", dotnet8()).unwrap_err();
        assert!(e.to_string().starts_with("A.runtimeconfig.json:2:"), "{e}");
    }
}
