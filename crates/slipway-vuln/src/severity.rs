//! CVSS base scores computed from the vectors (v3.0, v3.1, v4.0) and the
//! qualitative scale of the CVSS specification.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One severity scale for the scan, its reports and `slipway.toml`'s `fail_on`.
pub use slipway_artifact::Severity;

/// One OSV `severity[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityVector {
    /// `CVSS_V3`, `CVSS_V4`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// The base score of one vector, when it is a CVSS v3.x or v4.0 vector the
/// `cvss` crate parses.
pub fn base_score(vector: &str) -> Option<f64> {
    let parsed = cvss::Cvss::from_str(vector.trim()).ok()?;
    match parsed {
        cvss::Cvss::CvssV30(v) | cvss::Cvss::CvssV31(v) => Some(v.base_score().value()),
        cvss::Cvss::CvssV40(v) => Some(v.score().value()),
        // CVSS v2 has a different scale; the issue asks for v3 and v4 only.
        _ => None,
    }
}

/// The qualitative rating of a base score (identical for v3.x and v4.0).
pub fn from_score(score: f64) -> Severity {
    match score {
        s if s <= 0.0 => Severity::None,
        s if s < 4.0 => Severity::Low,
        s if s < 7.0 => Severity::Medium,
        s if s < 9.0 => Severity::High,
        _ => Severity::Critical,
    }
}

/// A severity with the score and vector it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub severity: Severity,
    pub score: Option<f64>,
    pub vector: Option<String>,
}

impl Rating {
    pub const UNKNOWN: Rating = Rating {
        severity: Severity::Unknown,
        score: None,
        vector: None,
    };
}

/// The worst rating among `vectors`; `unknown` when none can be scored.
pub fn rate(vectors: &[SeverityVector]) -> Rating {
    let mut best = Rating::UNKNOWN;
    for v in vectors {
        if let Some(score) = base_score(&v.score)
            && best.score.is_none_or(|b| score > b)
        {
            best = Rating {
                severity: from_score(score),
                score: Some(score),
                vector: Some(v.score.clone()),
            };
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_v3_base_scores() {
        assert_eq!(
            base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        assert_eq!(
            base_score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
            Some(7.5)
        );
        // 6.42×0.22 + 8.22×0.55×0.77×0.62×0.62 = 2.75, rounded up.
        assert_eq!(
            base_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N"),
            Some(2.8)
        );
        assert_eq!(
            base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"),
            Some(0.0)
        );
    }

    #[test]
    fn cvss_v4_base_scores() {
        // Scores of the FIRST calculator for these vectors.
        assert_eq!(
            base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            Some(9.3)
        );
        assert_eq!(
            base_score("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"),
            Some(4.8)
        );
    }

    #[test]
    fn unscorable_vectors_are_unknown() {
        assert_eq!(base_score("not a vector"), None);
        assert_eq!(
            base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"),
            None,
            "CVSS v2 is out of scope"
        );
        assert_eq!(rate(&[]), Rating::UNKNOWN);
    }

    #[test]
    fn scale_boundaries() {
        assert_eq!(from_score(0.0), Severity::None);
        assert_eq!(from_score(0.1), Severity::Low);
        assert_eq!(from_score(3.9), Severity::Low);
        assert_eq!(from_score(4.0), Severity::Medium);
        assert_eq!(from_score(6.9), Severity::Medium);
        assert_eq!(from_score(7.0), Severity::High);
        assert_eq!(from_score(8.9), Severity::High);
        assert_eq!(from_score(9.0), Severity::Critical);
        assert_eq!(from_score(10.0), Severity::Critical);
    }

    #[test]
    fn worst_vector_wins() {
        let v = |s: &str| SeverityVector {
            kind: "CVSS_V3".into(),
            score: s.into(),
        };
        let r = rate(&[
            v("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N"),
            v("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
        ]);
        assert_eq!((r.severity, r.score), (Severity::High, Some(7.5)));
    }

    #[test]
    fn ordering_for_the_gate() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Unknown < Severity::None);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }
}
