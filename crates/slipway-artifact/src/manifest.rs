use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runtime::{Architecture, Runtime};

pub use crate::layout::{MANIFEST_FILE_NAME, SHA256SUMS_FILE_NAME, function_dist_dir};
/// Bumped whenever a field changes meaning or goes away; new optional fields do not bump it.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// `manifest.json`: what was built for one function, and from what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub function: String,
    pub runtime: &'static Runtime,
    pub architecture: Architecture,
    pub handler: String,
    /// The deployment package.
    pub artifact: ArtifactRecord,
    /// The dependencies layer, when the function builds one (`layer = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<ArtifactRecord>,
    /// Hash over every normalised input; equal hashes mean equal artifacts.
    pub input_hash: String,
    pub slipway_version: String,
    /// The git commit of the source folder, when it is in a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    /// The timestamp written into the zip entries (seconds since the epoch).
    pub source_date_epoch: i64,
    /// The time the evidence (SBOMs) states: `SOURCE_DATE_EPOCH` when set,
    /// otherwise the source commit's time, otherwise `source_date_epoch`.
    /// Derived from the inputs, never the clock, so evidence is reproducible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_time: Option<i64>,
    /// Every installed distribution, sorted by name.
    #[serde(default)]
    pub dependencies: Vec<Distribution>,
}

/// One zip file and everything in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRecord {
    /// The file name, relative to the manifest's folder.
    pub file: String,
    /// SHA-256 of the zip, hex.
    pub sha256: String,
    /// SHA-256 of the zip, base64, exactly as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    pub zipped_size: u64,
    pub unzipped_size: u64,
    /// Sorted by path.
    pub entries: Vec<EntryRecord>,
}

/// One file inside a zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// `/`-separated, relative to the zip root.
    pub path: String,
    pub size: u64,
    /// Unix mode bits as stored: 0o644 or 0o755.
    pub mode: u32,
    /// SHA-256 of the uncompressed content, hex.
    pub sha256: String,
    pub origin: EntryOrigin,
}

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryOrigin {
    /// A file of the function's source folder.
    Source,
    /// A file installed from a wheel; `distribution` is the normalised name.
    Dependency { distribution: String },
}

/// The package ecosystem a distribution comes from. It decides the purl type,
/// the OSV ecosystem an advisory must name, and how versions are ordered, so
/// SBOM, scan, sign and verify never care which installer wrote the record.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Ecosystem {
    /// Python wheels from a package index.
    #[default]
    #[serde(rename = "PyPI")]
    PyPI,
    /// npm packages from a registry (Node.js functions).
    #[serde(rename = "npm")]
    Npm,
    /// NuGet packages (.NET functions, read from `deps.json`).
    #[serde(rename = "NuGet")]
    NuGet,
    /// Rust crates (custom runtimes, read from `Cargo.lock`).
    #[serde(rename = "crates.io")]
    CratesIo,
}

impl Ecosystem {
    /// The ecosystem's name in OSV records (`affected[].package.ecosystem`).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::CratesIo => "crates.io",
        }
    }

    /// The package-URL type (`pkg:<type>/…`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::NuGet => "nuget",
            Ecosystem::CratesIo => "cargo",
        }
    }

    /// The ecosystem named by an OSV record, when slipway knows it.
    pub fn from_osv_name(name: &str) -> Option<Ecosystem> {
        [
            Ecosystem::PyPI,
            Ecosystem::Npm,
            Ecosystem::NuGet,
            Ecosystem::CratesIo,
        ]
        .into_iter()
        .find(|e| e.osv_name() == name)
    }

    /// Manifests leave the field out for PyPI, the only ecosystem before
    /// others existed, so earlier manifests and their bytes stay valid.
    pub fn is_pypi(&self) -> bool {
        *self == Ecosystem::PyPI
    }
}

/// One installed distribution (a wheel, an npm package, a NuGet package, a
/// crate): the inventory SBOMs and scans read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// The ecosystem it comes from; absent in the JSON means PyPI.
    #[serde(default, skip_serializing_if = "Ecosystem::is_pypi")]
    pub ecosystem: Ecosystem,
    /// The name as the distribution spells it (npm: with its `@scope/`).
    pub name: String,
    pub version: String,
    /// The file it was distributed as: the wheel's file name, the npm
    /// tarball's, the `.nupkg`'s.
    pub wheel: String,
    /// SHA-256 of that file, hex; empty when the only digest slipway has is
    /// the ecosystem's own (see `integrity`).
    pub wheel_sha256: String,
    /// The ecosystem's own integrity string in Subresource Integrity form
    /// (`sha512-<base64>`): npm lockfiles' `integrity`, `deps.json`'s `sha512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// Where the package sits in the installed tree when one name can be
    /// installed more than once (npm: `node_modules/a/node_modules/b`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_path: Option<String>,
    /// Where the wheel was downloaded from, credentials removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wheel_url: Option<String>,
    /// The `License-Expression` metadata field (PEP 639), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_expression: Option<String>,
    /// The free-text `License` metadata field, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `License ::` trove classifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license_classifiers: Vec<String>,
    /// Named in the requirements (true) or pulled in by another distribution.
    pub direct: bool,
    /// Normalised names of the installed distributions this one requires.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Which zip holds it.
    pub installed_in: InstalledIn,
}

/// The zip a distribution is installed in: the function's own, or the
/// dependencies layer (`layer = true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstalledIn {
    Function,
    Layer,
}

impl InstalledIn {
    /// The name records and SBOM properties use.
    pub fn as_str(self) -> &'static str {
        match self {
            InstalledIn::Function => "function",
            InstalledIn::Layer => "layer",
        }
    }
}

impl std::fmt::Display for InstalledIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Distribution {
    /// The package URL (purl spec) of this distribution: PyPI names
    /// normalised (PEP 503), an npm scope's `@` percent-encoded, and the
    /// characters purl reserves percent-encoded in the version (a PEP 440
    /// local version's `+`, a SemVer build's `+`).
    pub fn purl(&self) -> String {
        let name = match self.ecosystem {
            Ecosystem::PyPI => normalize_pypi_name(&self.name),
            Ecosystem::Npm => match self.name.strip_prefix('@') {
                Some(scoped) => format!("%40{scoped}"),
                None => self.name.clone(),
            },
            Ecosystem::NuGet | Ecosystem::CratesIo => self.name.clone(),
        };
        format!(
            "pkg:{}/{}@{}",
            self.ecosystem.purl_type(),
            name,
            percent_encode_purl(&self.version)
        )
    }
}

/// PEP 503: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_dash = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            pending_dash = true;
        } else {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn percent_encode_purl(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ManifestError {
    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(code(slipway::manifest::unreadable), help("run `slipway build` first"))]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a slipway manifest: {source}", path.display())]
    #[diagnostic(
        code(slipway::manifest::malformed),
        help("rebuild with `slipway build`; do not edit manifest.json by hand")
    )]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{} has schema version {found}; this slipway reads version {MANIFEST_SCHEMA_VERSION}", path.display())]
    #[diagnostic(
        code(slipway::manifest::version),
        help("rebuild with this slipway, or use the slipway that wrote it")
    )]
    Version { path: PathBuf, found: u32 },
}

impl Manifest {
    /// Reads `dist/<function>/manifest.json`.
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let bytes = std::fs::read(path).map_err(|source| ManifestError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let m: Manifest =
            serde_json::from_slice(&bytes).map_err(|source| ManifestError::Malformed {
                path: path.to_path_buf(),
                source,
            })?;
        if m.schema_version != MANIFEST_SCHEMA_VERSION {
            return Err(ManifestError::Version {
                path: path.to_path_buf(),
                found: m.schema_version,
            });
        }
        Ok(m)
    }

    /// The canonical bytes: pretty JSON with a final newline, fields in declaration order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }

    /// The time SBOMs and other evidence state (see `evidence_time`).
    pub fn evidence_time(&self) -> i64 {
        self.evidence_time.unwrap_or(self.source_date_epoch)
    }

    /// Every artifact the manifest describes: the function zip, then the layer zip.
    pub fn artifacts(&self) -> impl Iterator<Item = &ArtifactRecord> {
        std::iter::once(&self.artifact).chain(self.layer.as_ref())
    }

    /// `SHA256SUMS` content for the artifacts, in `sha256sum -c` format.
    pub fn sha256sums(&self) -> String {
        self.artifacts()
            .map(|a| format!("{}  {}\n", a.sha256, a.file))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(ecosystem: Ecosystem, name: &str, version: &str) -> Distribution {
        Distribution {
            ecosystem,
            name: name.into(),
            version: version.into(),
            wheel: String::new(),
            wheel_sha256: String::new(),
            wheel_url: None,
            integrity: None,
            install_path: None,
            license_expression: None,
            license: None,
            license_classifiers: Vec::new(),
            direct: true,
            requires: Vec::new(),
            installed_in: InstalledIn::Function,
        }
    }

    #[test]
    fn purls_follow_each_ecosystem_rules() {
        let cases = [
            (
                Ecosystem::PyPI,
                "Jinja2_Ext",
                "1.0+local",
                "pkg:pypi/jinja2-ext@1.0%2Blocal",
            ),
            (
                Ecosystem::Npm,
                "@img/sharp-linux-x64",
                "0.33.5",
                "pkg:npm/%40img/sharp-linux-x64@0.33.5",
            ),
            (
                Ecosystem::Npm,
                "left-pad",
                "1.3.0",
                "pkg:npm/left-pad@1.3.0",
            ),
            (
                Ecosystem::NuGet,
                "Amazon.Lambda.Core",
                "2.5.0",
                "pkg:nuget/Amazon.Lambda.Core@2.5.0",
            ),
            (
                Ecosystem::CratesIo,
                "serde",
                "1.0.210",
                "pkg:cargo/serde@1.0.210",
            ),
        ];
        for (ecosystem, name, version, purl) in cases {
            assert_eq!(dist(ecosystem, name, version).purl(), purl);
        }
    }

    #[test]
    fn typed_fields_keep_their_json_strings() {
        let manifest = Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            function: "f".into(),
            runtime: Runtime::find("python3.12").unwrap(),
            architecture: Architecture::Arm64,
            handler: "app.handler".into(),
            artifact: ArtifactRecord {
                file: "f.zip".into(),
                sha256: String::new(),
                code_sha256: String::new(),
                zipped_size: 0,
                unzipped_size: 0,
                entries: Vec::new(),
            },
            layer: None,
            input_hash: String::new(),
            slipway_version: String::new(),
            source_commit: None,
            source_date_epoch: 0,
            evidence_time: None,
            dependencies: vec![Distribution {
                installed_in: InstalledIn::Layer,
                ..dist(Ecosystem::PyPI, "a", "1")
            }],
        };
        let json = serde_json::to_value(&manifest).unwrap();
        assert_eq!(json["runtime"], "python3.12");
        assert_eq!(json["architecture"], "arm64");
        assert_eq!(json["dependencies"][0]["installed_in"], "layer");
        let back: Manifest = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, manifest);

        // A runtime or architecture this slipway does not know is refused
        // when the record is read, not by each stage that would use it.
        for (field, value, message) in [
            ("runtime", "java21", "unknown runtime `java21`"),
            ("architecture", "riscv64", "unknown architecture `riscv64`"),
        ] {
            let mut bad = json.clone();
            bad[field] = value.into();
            let err = serde_json::from_value::<Manifest>(bad).unwrap_err();
            assert!(err.to_string().contains(message), "{err}");
        }
    }

    #[test]
    fn pypi_is_left_out_of_the_json_and_read_back_as_default() {
        let json = serde_json::to_value(dist(Ecosystem::PyPI, "a", "1")).unwrap();
        assert!(json.get("ecosystem").is_none());
        let back: Distribution = serde_json::from_value(json).unwrap();
        assert_eq!(back.ecosystem, Ecosystem::PyPI);
        let npm = serde_json::to_value(dist(Ecosystem::Npm, "a", "1")).unwrap();
        assert_eq!(npm["ecosystem"], "npm");
        assert_eq!(
            Ecosystem::from_osv_name("crates.io"),
            Some(Ecosystem::CratesIo)
        );
        assert_eq!(Ecosystem::from_osv_name("Go"), None);
    }
}
