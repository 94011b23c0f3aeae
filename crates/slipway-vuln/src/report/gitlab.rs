//! GitLab's dependency-scanning report (`gl-dependency-scanning-report.json`,
//! schema 15.x), so findings show in merge requests and the security dashboard.

use serde_json::{Value, json};

use crate::scan::{Finding, ScanOutcome};
use crate::severity::Severity;

/// The schema version the report declares (the copy in `schemas/`).
pub const SCHEMA_VERSION: &str = "15.1.5";
pub const SCHEMA_URI: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.1.5/dist/dependency-scanning-report-format.json";

/// `start`/`end` are UTC; `artifact_for` names the file each finding is
/// reported against, relative to the project root; `warnings` (a stale
/// database, expired accepted risks) become `warn` messages of the scan.
pub fn render(
    outcome: &ScanOutcome,
    start: time::OffsetDateTime,
    end: time::OffsetDateTime,
    artifact_for: &dyn Fn(&Finding) -> String,
    warnings: &[String],
) -> Value {
    let mut messages = vec![json!({"level": "info", "value": format!(
        "advisories: {} {}{}",
        outcome.db.kind.describe(),
        outcome.db.location,
        outcome.db.date.as_deref().map(|d| format!(", data as of {d}")).unwrap_or_default()
    )})];
    messages.extend(
        warnings
            .iter()
            .filter(|w| !w.trim().is_empty())
            .map(|w| json!({"level": "warn", "value": w})),
    );
    let vulnerabilities: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            let mut identifiers = Vec::new();
            for name in f.names() {
                let mut ident = json!({
                    "type": identifier_type(name),
                    "name": name,
                    "value": name,
                });
                if let Some(url) = identifier_url(name) {
                    ident["url"] = json!(url);
                }
                identifiers.push(ident);
            }
            let mut description = f.summary.clone();
            if let Some(a) = &f.accepted {
                description.push_str(&format!(
                    "\n\nAccepted risk{}: {} ({})",
                    a.until.as_deref().map(|u| format!(" until {u}")).unwrap_or_default(),
                    a.reason,
                    a.origin
                ));
            }
            let mut v = json!({
                "id": super::finding_uuid(f),
                "name": format!("{} in {} {}", f.id, f.package, f.version),
                "severity": severity(f.severity),
                "solution": match &f.fixed_in {
                    Some(v) => format!("Upgrade {} to {v} or later.", f.package),
                    None => "No fixed version is known; remove the dependency or accept the risk with a reason and an end date.".to_string(),
                },
                "identifiers": identifiers,
                "location": {
                    "file": artifact_for(f),
                    "dependency": {
                        "package": {"name": f.package},
                        "version": f.version,
                        "direct": f.direct,
                    },
                },
            });
            if !description.trim().is_empty() {
                v["description"] = json!(description);
            }
            if let Some(vector) = f.vector.as_deref().filter(|v| v.starts_with("CVSS:3.")) {
                v["cvss_vectors"] = json!([{"vendor": "unknown", "vector": vector}]);
            }
            if let Some(url) = f.url.as_deref().filter(|u| u.starts_with("http")) {
                v["links"] = json!([{"url": url}]);
            }
            v
        })
        .collect();
    json!({
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URI,
        "scan": {
            "analyzer": {"id": "slipway", "name": "slipway scan", "version": env!("CARGO_PKG_VERSION"), "vendor": {"name": "slipway"}},
            "scanner": {"id": "slipway-osv", "name": "slipway OSV matcher", "version": env!("CARGO_PKG_VERSION"), "vendor": {"name": "slipway"}},
            "type": "dependency_scanning",
            "start_time": timestamp(start),
            "end_time": timestamp(end),
            "status": "success",
            "messages": messages,
        },
        "vulnerabilities": vulnerabilities,
    })
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Unknown => "Unknown",
        Severity::None => "Info",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

fn identifier_type(name: &str) -> String {
    match name.split('-').next() {
        Some("CVE") => "cve".into(),
        Some("GHSA") => "ghsa".into(),
        Some("PYSEC") => "pysec".into(),
        _ => "osv".into(),
    }
}

fn identifier_url(name: &str) -> Option<String> {
    if name.starts_with("CVE-") {
        Some(format!("https://www.cve.org/CVERecord?id={name}"))
    } else if name.starts_with("GHSA-") {
        Some(format!("https://github.com/advisories/{name}"))
    } else {
        Some(format!("https://osv.dev/vulnerability/{name}"))
    }
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, the form the schema's pattern asks for.
fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}
