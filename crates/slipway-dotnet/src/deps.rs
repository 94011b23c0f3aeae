//! The inventory of a .NET package: the NuGet packages its `deps.json`
//! lists, with the `sha512` of each `.nupkg` that `deps.json` records.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use slipway_artifact::{Distribution, Ecosystem};

use crate::DotNetError;

#[derive(Debug, Deserialize)]
struct DepsJson {
    #[serde(rename = "runtimeTarget")]
    runtime_target: RuntimeTarget,
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, TargetEntry>>,
    #[serde(default)]
    libraries: BTreeMap<String, Library>,
}

#[derive(Debug, Deserialize)]
struct RuntimeTarget {
    name: String,
}

#[derive(Debug, Default, Deserialize)]
struct TargetEntry {
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Library {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    sha512: String,
    #[serde(default, rename = "hashPath")]
    hash_path: Option<String>,
}

fn split_key(key: &str) -> Option<(&str, &str)> {
    key.rsplit_once('/')
        .filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

/// Reads the NuGet packages of `text` (the `deps.json` named `file`), sorted
/// by name. Packages the function's own projects name are direct.
pub fn inventory(file: &str, text: &str) -> Result<Vec<Distribution>, DotNetError> {
    let bad = |message: String| DotNetError::BadFile {
        file: file.to_owned(),
        message,
        help: "publish again; the SDK writes this file".into(),
    };
    let deps: DepsJson = serde_json::from_str(text).map_err(|e| DotNetError::BadFile {
        file: format!("{file}:{}", e.line()),
        message: e.to_string(),
        help: "publish again; the SDK writes this file".into(),
    })?;
    let target = deps.targets.get(&deps.runtime_target.name).ok_or_else(|| {
        bad(format!(
            "`runtimeTarget.name` is `{}`, but `targets` has no such target",
            deps.runtime_target.name
        ))
    })?;
    let mut direct: BTreeSet<&str> = BTreeSet::new();
    for (key, lib) in &deps.libraries {
        if lib.kind == "project"
            && let Some(entry) = target.get(key)
        {
            direct.extend(entry.dependencies.keys().map(String::as_str));
        }
    }
    let packages: BTreeSet<&str> = deps
        .libraries
        .iter()
        .filter(|(_, l)| l.kind == "package")
        .filter_map(|(k, _)| split_key(k).map(|(n, _)| n))
        .collect();
    let mut out = Vec::new();
    for (key, lib) in &deps.libraries {
        if lib.kind != "package" {
            continue;
        }
        let (name, version) =
            split_key(key).ok_or_else(|| bad(format!("library `{key}` is not `Name/Version`")))?;
        let integrity = if lib.sha512.is_empty() {
            None
        } else if lib.sha512.starts_with("sha512-") {
            Some(lib.sha512.clone())
        } else {
            return Err(bad(format!(
                "library `{key}`: `sha512` is `{}`, not `sha512-<base64>`",
                lib.sha512
            )));
        };
        let nupkg = lib
            .hash_path
            .as_deref()
            .and_then(|h| h.strip_suffix(".sha512"))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}.{}.nupkg", name.to_lowercase(), version.to_lowercase()));
        let mut requires: Vec<String> = target
            .get(key)
            .map(|e| {
                e.dependencies
                    .keys()
                    .filter(|d| packages.contains(d.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        requires.sort();
        out.push(Distribution {
            ecosystem: Ecosystem::NuGet,
            name: name.to_owned(),
            version: version.to_owned(),
            wheel: nupkg,
            // deps.json records only NuGet's own SHA-512 of the .nupkg.
            wheel_sha256: String::new(),
            integrity,
            install_path: None,
            wheel_url: None,
            license_expression: None,
            license: None,
            license_classifiers: Vec::new(),
            direct: direct.contains(name),
            requires,
            installed_in: slipway_artifact::InstalledIn::Function,
        });
    }
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.version.cmp(&b.version))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        include_str!("../tests/fixtures/function.deps.json").replace("ASSEMBLY", "ItemsApi")
    }

    #[test]
    fn packages_come_with_their_nuget_hashes() {
        let dists = inventory("ItemsApi.deps.json", &fixture()).unwrap();
        let names: Vec<String> = dists
            .iter()
            .map(|d| format!("{}@{}", d.name, d.version))
            .collect();
        assert_eq!(
            names,
            [
                "Amazon.Lambda.Core@2.2.0",
                "AWSSDK.Core@3.7.303.20",
                "AWSSDK.SQS@3.7.300.80",
                "Newtonsoft.Json@11.0.2",
                "System.Net.Http@4.3.0",
                "System.Text.Encodings.Web@8.0.0-rc.2.23479.6",
                "System.Text.Json@8.0.0-rc.2.23479.6",
                "System.Text.RegularExpressions@4.3.0",
            ]
        );
        let newtonsoft = &dists[3];
        assert_eq!(newtonsoft.purl(), "pkg:nuget/Newtonsoft.Json@11.0.2");
        assert_eq!(newtonsoft.wheel, "newtonsoft.json.11.0.2.nupkg");
        assert_eq!(
            newtonsoft.integrity.as_deref(),
            Some(
                "sha512-IvJe1pj7JHEsP8B8J8DwlMEx8UInrs/x+9oVY+oCD13jpLu4JbJU2WCIsMRn5C4yW9+DgkaO8uiVE5VHKjpmdQ=="
            )
        );
        assert!(newtonsoft.direct);
        // Pulled in by the project reference ItemsApi.Domain: direct too.
        assert!(dists[4].direct);
        assert!(!dists[1].direct, "AWSSDK.Core comes through AWSSDK.SQS");
        assert_eq!(dists[2].requires, ["AWSSDK.Core"]);
        assert_eq!(
            dists[6].purl(),
            "pkg:nuget/System.Text.Json@8.0.0-rc.2.23479.6"
        );
    }

    #[test]
    fn broken_files_are_named() {
        let e = inventory("A.deps.json", "{\n\"runtimeTarget\": 3}").unwrap_err();
        assert!(e.to_string().starts_with("A.deps.json:2:"), "{e}");
        let e = inventory(
            "A.deps.json",
            &fixture().replace(
                "\"name\": \".NETCoreApp,Version=v8.0/linux-x64\"",
                "\"name\": \"X\"",
            ),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("`targets` has no such target"),
            "{e}"
        );
        let e = inventory(
            "A.deps.json",
            &fixture().replace("sha512-IvJe1", "md5-IvJe1"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not `sha512-<base64>`"), "{e}");
    }
}
