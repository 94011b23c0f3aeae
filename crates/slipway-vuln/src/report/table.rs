//! The human report: which database, one table of findings, accepted risks,
//! ignore entries that need attention, fix advice, and the verdict.

use std::fmt::Write;

use crate::fix::LockMove;
use crate::ignore::IgnoreState;
use crate::scan::ScanOutcome;
use crate::severity::Severity;

pub fn render(outcome: &ScanOutcome) -> String {
    let mut out = String::new();
    let db = &outcome.db;
    let _ = writeln!(
        out,
        "database: {} {} ({} advisories{}{}{})",
        db.kind.describe(),
        db.location,
        db.advisories,
        if db.not_relevant > 0 {
            format!(
                " about shipped packages, {} others not read",
                db.not_relevant
            )
        } else {
            String::new()
        },
        db.date
            .as_deref()
            .map(|d| format!(", data as of {}", d.get(..10).unwrap_or(d)))
            .unwrap_or_default(),
        db.fetched_at
            .as_deref()
            .map(|d| format!(", fetched {}", d.get(..10).unwrap_or(d)))
            .unwrap_or_default(),
    );
    let _ = writeln!(
        out,
        "scanned: {} distributions in {} function(s)",
        outcome.distributions_scanned,
        outcome.functions.len()
    );

    if outcome.findings.is_empty() {
        let _ = writeln!(out, "\nno known vulnerabilities");
    } else {
        let multi = outcome.functions.len() > 1;
        let mut rows: Vec<[String; 7]> = vec![[
            if multi { "FUNCTION" } else { "" }.to_string(),
            "PACKAGE".into(),
            "INSTALLED".into(),
            "ADVISORY".into(),
            "ALIASES".into(),
            "SEVERITY".into(),
            "FIXED IN".into(),
        ]];
        for f in &outcome.findings {
            let severity = match (&f.accepted, f.score) {
                (Some(_), _) => format!("{} (accepted)", f.severity),
                (None, Some(score)) => format!("{} {score:.1}", f.severity),
                (None, None) => f.severity.to_string(),
            };
            rows.push([
                if multi {
                    f.function.clone()
                } else {
                    String::new()
                },
                f.package.clone(),
                f.version.clone(),
                f.id.clone(),
                short_aliases(&f.aliases),
                severity,
                super::fixed_in_text(f).to_string(),
            ]);
        }
        let widths: Vec<usize> = (0..7)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let _ = writeln!(out);
        for row in &rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c == 0 && !multi {
                    continue;
                }
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }

    let accepted: Vec<_> = outcome
        .findings
        .iter()
        .filter_map(|f| Some((f, f.accepted.as_ref()?)))
        .collect();
    if !accepted.is_empty() {
        let _ = writeln!(out, "\naccepted risks:");
        for (f, a) in accepted {
            let _ = writeln!(
                out,
                "  {} in {} {}: {}{} ({})",
                f.id,
                f.package,
                f.version,
                a.reason,
                a.until
                    .as_deref()
                    .map(|u| format!(" — until {u}"))
                    .unwrap_or_default(),
                a.origin
            );
        }
    }

    for report in &outcome.ignores {
        let until = report.rule.until.map(|d| d.to_string()).unwrap_or_default();
        match report.state {
            IgnoreState::Expired => {
                let _ = writeln!(
                    out,
                    "warning: ignore entry {} ({}) expired on {until}; it no longer applies{}",
                    report.rule.id,
                    report.rule.origin,
                    if report.matches.is_empty() {
                        " (and it matches nothing)"
                    } else {
                        ""
                    }
                );
            }
            IgnoreState::Stale => {
                let _ = writeln!(
                    out,
                    "warning: ignore entry {} ({}) matches no finding; remove it if the advisory no longer applies",
                    report.rule.id, report.rule.origin
                );
            }
            IgnoreState::Applied => {}
        }
    }

    if !outcome.fix_advice.is_empty() {
        let _ = writeln!(out, "\nfix advice:");
        for a in &outcome.fix_advice {
            let head = match &a.target {
                Some(t) => format!("  {} {} → {t}", a.package, a.installed),
                None => format!("  {} {}: no fixed version is known", a.package, a.installed),
            };
            let verdict = match &a.lock {
                LockMove::Compatible { checked } if checked.is_empty() => {
                    "nothing else shipped constrains it".to_string()
                }
                LockMove::Compatible { checked } => {
                    format!("allowed by {}", checked.join("; "))
                }
                LockMove::Conflicts { with } => format!(
                    "blocked by {}",
                    with.iter()
                        .map(|c| format!("{} ({})", c.dependent, c.requirement))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                LockMove::NoFixKnown => "watch the advisory".to_string(),
                LockMove::Unknown { reason } => format!("cannot tell: {reason}"),
            };
            let _ = writeln!(out, "{head}: {verdict}");
        }
    }

    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|&s| {
            let n = outcome.count(s);
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let unknown = outcome.count(Severity::Unknown);
    if unknown > 0 && outcome.fail_on > Severity::Unknown {
        let _ = writeln!(
            out,
            "\nnote: {unknown} finding(s) have no CVSS vector slipway can score (severity unknown) and do not trip the gate; `--fail-on unknown` fails on every finding"
        );
    }
    let accepted_n = outcome
        .findings
        .iter()
        .filter(|f| f.accepted.is_some())
        .count();
    let _ = writeln!(
        out,
        "\n{}: {} finding(s){}{}, gate at {}: {}",
        if outcome.passed() { "passed" } else { "FAILED" },
        outcome.findings.len(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        if accepted_n > 0 {
            format!(", {accepted_n} accepted")
        } else {
            String::new()
        },
        outcome.fail_on,
        if outcome.passed() {
            "nothing at or above it".to_string()
        } else {
            format!("{} at or above it", outcome.blocking)
        }
    );
    out
}

/// At most two aliases, CVE first, so the table stays readable; JSON and
/// the other reports carry them all.
fn short_aliases(aliases: &[String]) -> String {
    let mut sorted: Vec<&String> = aliases.iter().collect();
    sorted.sort_by_key(|a| (!a.starts_with("CVE-"), !a.starts_with("GHSA-"), a.as_str()));
    let shown: Vec<&str> = sorted.iter().take(2).map(|a| a.as_str()).collect();
    match aliases.len() {
        n if n > 2 => format!("{} +{}", shown.join(", "), n - 2),
        _ => shown.join(", "),
    }
}
