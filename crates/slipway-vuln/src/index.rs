//! Online mode: ask the configured package index's JSON API for the
//! `vulnerabilities` of each shipped `name/version`.
//!
//! The index is the one the dependency installer uses, found in the same
//! order: `--index-url`, `[python] index_url`, `PIP_INDEX_URL`,
//! `UV_DEFAULT_INDEX`, pip's configuration files. slipway knows no index
//! host of its own. The JSON API sits beside the simple API: an index URL
//! ending in `/simple` has its JSON API under `/pypi/<name>/<version>/json`.

use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::advisory::{Advisory, AffectedPackage, Event};
use crate::db::{Database, DbInfo, DbKind};
use crate::error::VulnError;
use slipway_sbom::normalize_name as normalize;

/// The index URL and where it was configured. The binary decides it the way
/// the dependency stage does (`slipway_python::sources::decide`), so a scan
/// asks the same index the build installed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexUrl {
    pub url: String,
    pub origin: String,
}

pub use slipway_artifact::redact_url as redact;

/// The JSON API URL of one release.
pub fn json_api_url(index_url: &str, name: &str, version: &str) -> String {
    let trimmed = index_url.trim_end_matches('/');
    let base = trimmed
        .strip_suffix("/simple")
        .or_else(|| trimmed.strip_suffix("/+simple"))
        .unwrap_or(trimmed);
    format!("{base}/pypi/{}/{}/json", normalize(name), version.trim())
}

pub(crate) fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("slipway/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .build()
}

#[derive(Deserialize)]
struct ReleaseJson {
    #[serde(default)]
    vulnerabilities: Vec<IndexVulnerability>,
}

#[derive(Deserialize)]
struct IndexVulnerability {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    fixed_in: Vec<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
}

/// Asks the index about each `(name, version)` and returns the answers as a
/// database. The index says only "this release is affected" and which
/// releases fix it, with no CVSS vector: findings from it are `unknown`
/// severity unless another source scores them.
pub fn query(index: &IndexUrl, packages: &[(String, String)]) -> Result<Database, VulnError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VulnError::Index {
            url: redact(&index.url),
            package: String::new(),
            version: String::new(),
            reason: e.to_string(),
        })?;
    let fail = |package: &str, version: &str, reason: String| VulnError::Index {
        url: redact(&index.url),
        package: package.to_string(),
        version: version.to_string(),
        reason,
    };
    let client = http_client().map_err(|e| fail("", "", e.to_string()))?;
    let answers: Vec<Result<Vec<Advisory>, VulnError>> = runtime.block_on(
        futures::stream::iter(packages.iter().cloned())
            .map(|(name, version)| {
                let client = client.clone();
                let url = json_api_url(&index.url, &name, &version);
                async move {
                    let response = client
                        .get(&url)
                        .header("Accept", "application/json")
                        .send()
                        .await
                        .map_err(|e| fail(&name, &version, e.to_string()))?;
                    if response.status() == reqwest::StatusCode::NOT_FOUND {
                        // Not on this index (a private or local build): nothing to report.
                        return Ok(Vec::new());
                    }
                    if !response.status().is_success() {
                        return Err(fail(&name, &version, format!("HTTP {}", response.status())));
                    }
                    let release: ReleaseJson = response
                        .json()
                        .await
                        .map_err(|e| fail(&name, &version, format!("not the JSON API: {e}")))?;
                    Ok(release
                        .vulnerabilities
                        .into_iter()
                        .filter(|v| v.withdrawn.is_none())
                        .map(|v| to_advisory(v, &name, &version))
                        .collect())
                }
            })
            .buffer_unordered(8)
            .collect(),
    );
    let mut advisories = Vec::new();
    for answer in answers {
        advisories.extend(answer?);
    }
    let info = DbInfo {
        source: Some(index.origin.clone()),
        date: Some(
            time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        ),
        ..DbInfo::new(DbKind::Index, redact(&index.url))
    };
    Ok(Database::new(info, advisories))
}

/// The index's answer as an advisory about exactly this release: it is
/// listed as affected, and each `fixed_in` closes a range opened at it.
fn to_advisory(v: IndexVulnerability, name: &str, version: &str) -> Advisory {
    let summary = v
        .summary
        .filter(|s| !s.trim().is_empty())
        .or(v.details)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    Advisory {
        id: v.id,
        aliases: v.aliases,
        summary: summary.chars().take(200).collect(),
        modified: None,
        published: None,
        severity: Vec::new(),
        affected: vec![AffectedPackage {
            ecosystem: Default::default(),
            name: normalize(name),
            ranges: v
                .fixed_in
                .iter()
                .map(|f| {
                    vec![
                        Event::Introduced(version.to_string()),
                        Event::Fixed(f.clone()),
                    ]
                })
                .collect(),
            versions: vec![version.to_string()],
            severity: Vec::new(),
        }],
        url: v.link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_api_beside_simple() {
        assert_eq!(
            json_api_url("http://127.0.0.1:8080/simple/", "PyYAML", "5.3"),
            "http://127.0.0.1:8080/pypi/pyyaml/5.3/json"
        );
        assert_eq!(
            json_api_url("http://127.0.0.1:8080/root", "a_b", "1"),
            "http://127.0.0.1:8080/root/pypi/a-b/1/json"
        );
    }

    #[test]
    fn credentials_never_shown() {
        assert_eq!(
            redact("https://user:secret@127.0.0.1/simple"),
            "https://***@127.0.0.1/simple"
        );
        assert_eq!(redact("http://127.0.0.1/simple"), "http://127.0.0.1/simple");
    }
}
