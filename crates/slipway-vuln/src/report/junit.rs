//! The scan outcome as a JUnit XML report: GitLab shows `artifacts:reports:junit`
//! in merge requests and pipelines on every tier, where the security reports
//! need Ultimate.
//!
//! One `testsuite` per function; one `testcase` per finding, named after the
//! advisory and the package, that fails when the finding blocks the gate, is
//! skipped when it is an accepted risk, and passes when it is below the gate.
//! A function without findings gets one passing case, so a clean scan still
//! shows up as tests run.

use std::fmt::Write;

use crate::scan::{Finding, ScanOutcome};

/// The report as XML text.
pub fn render(outcome: &ScanOutcome) -> String {
    let mut suites = String::new();
    let (mut total, mut failures, mut skipped) = (0usize, 0usize, 0usize);
    for function in &outcome.functions {
        let findings: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| &f.function == function)
            .collect();
        let mut cases = String::new();
        let (mut s_failures, mut s_skipped) = (0usize, 0usize);
        for f in &findings {
            let name = format!("{} in {} {}", f.id, f.package, f.version);
            let classname = format!("{function}.{}", f.package);
            let _ = writeln!(
                cases,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\">",
                escape(&name),
                escape(&classname),
                escape(function)
            );
            let detail = detail(f);
            if let Some(a) = &f.accepted {
                s_skipped += 1;
                let _ = writeln!(
                    cases,
                    "      <skipped message=\"{}\"/>",
                    escape(&format!("accepted risk: {} ({})", a.reason, a.origin))
                );
            } else if f.blocks(outcome.fail_on, outcome.allow_unscored) {
                s_failures += 1;
                let _ = writeln!(
                    cases,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    f.severity.as_str(),
                    escape(&format!(
                        "{} ({}) in {} {}: {}",
                        f.id,
                        f.severity.as_str(),
                        f.package,
                        f.version,
                        f.summary
                    )),
                    escape(&detail)
                );
            } else {
                let _ = writeln!(cases, "      <system-out>{}</system-out>", escape(&detail));
            }
            cases.push_str("    </testcase>\n");
        }
        let mut count = findings.len();
        if findings.is_empty() {
            count = 1;
            let _ = writeln!(
                cases,
                "    <testcase name=\"no known vulnerabilities\" classname=\"{}\" file=\"{}\"/>",
                escape(function),
                escape(function)
            );
        }
        let _ = write!(
            suites,
            "  <testsuite name=\"slipway scan: {}\" tests=\"{count}\" failures=\"{s_failures}\" errors=\"0\" skipped=\"{s_skipped}\">\n{cases}  </testsuite>\n",
            escape(function)
        );
        total += count;
        failures += s_failures;
        skipped += s_skipped;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"slipway scan\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n{suites}</testsuites>\n"
    )
}

fn detail(f: &Finding) -> String {
    let mut text = format!(
        "package: {} {} ({})\nadvisory: {}",
        f.package,
        f.version,
        if f.direct { "direct" } else { "transitive" },
        f.id
    );
    if !f.aliases.is_empty() {
        let _ = write!(text, " ({})", f.aliases.join(", "));
    }
    let _ = write!(text, "\nseverity: {}", f.severity.as_str());
    if let Some(score) = f.score {
        let _ = write!(text, " {score:.1}");
    }
    let _ = write!(text, "\nfixed in: {}", super::fixed_in_text(f));
    if let Some(url) = &f.url {
        let _ = write!(text, "\n{url}");
    }
    text
}

/// XML text and attribute escaping; characters XML 1.0 cannot carry at all
/// (most C0 controls) become U+FFFD so the report always parses.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_markup_out_and_controls_away() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
        assert_eq!(escape("line\nnext"), "line\nnext");
    }
}
