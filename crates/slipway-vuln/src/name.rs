//! PEP 503 name normalisation: `Jinja2`, `jinja2` and `JINJA_2`-style
//! spellings of one project compare equal.

/// Lower-cases and collapses every run of `-`, `_` and `.` into one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            in_separator = true;
            continue;
        }
        if in_separator && !out.is_empty() {
            out.push('-');
        }
        in_separator = false;
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn pep_503_examples() {
        for spelling in [
            "friendly-bard",
            "Friendly-Bard",
            "FRIENDLY-BARD",
            "friendly.bard",
            "friendly_bard",
            "friendly--bard",
            "FrIeNdLy-._.-bArD",
        ] {
            assert_eq!(normalize(spelling), "friendly-bard", "{spelling}");
        }
        assert_eq!(normalize("jw.util"), "jw-util");
        assert_eq!(normalize("PyYAML"), "pyyaml");
    }
}
