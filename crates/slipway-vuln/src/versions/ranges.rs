//! OSV's evaluation of `affected[]` (`IncludedInVersions ||
//! IncludedInRanges`, with `limit` bounds) over any total order of versions.
//! Each ecosystem brings only its parser; the walk over sorted events is
//! here once.

use crate::advisory::{AffectedPackage, Event};
use crate::matching::MatchedBy;

/// Whether `version` is affected, and how. `parse` reads the ecosystem's
/// versions; a version it cannot read matches only by exact text.
pub fn matches_by<V: Ord>(
    version: &str,
    affected: &AffectedPackage,
    parse: impl Fn(&str) -> Option<V>,
) -> Option<MatchedBy> {
    let v = parse(version.trim());
    let listed = affected.versions.iter().any(|l| {
        l.trim() == version.trim() || matches!((&v, parse(l.trim())), (Some(a), Some(b)) if *a == b)
    });
    if listed {
        return Some(MatchedBy::Versions);
    }
    let v = v?;
    affected
        .ranges
        .iter()
        .any(|events| in_range_by(&v, events, &parse))
        .then_some(MatchedBy::Range)
}

/// `IncludedInRanges` for one range.
pub fn in_range_by<V: Ord>(v: &V, events: &[Event], parse: impl Fn(&str) -> Option<V>) -> bool {
    // `None` is the `introduced: "0"` / `limit: "*"` sentinel.
    let mut parsed: Vec<(Option<V>, &Event)> = events
        .iter()
        .filter_map(|e| {
            let text = e.version().trim();
            let at = match e {
                Event::Introduced(_) if text == "0" => None,
                Event::Limit(_) if text.contains('*') => None,
                _ => Some(parse(text)?),
            };
            Some((at, e))
        })
        .collect();
    let limits: Vec<&Option<V>> = parsed
        .iter()
        .filter(|(_, e)| matches!(e, Event::Limit(_)))
        .map(|(at, _)| at)
        .collect();
    if !limits.is_empty() && !limits.iter().any(|l| l.as_ref().is_none_or(|l| v < l)) {
        return false;
    }
    let rank = |e: &Event| match e {
        Event::Introduced(_) => 0,
        Event::LastAffected(_) => 1,
        Event::Fixed(_) => 2,
        Event::Limit(_) => 3,
    };
    parsed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| rank(a.1).cmp(&rank(b.1))));
    let mut vulnerable = false;
    for (at, e) in &parsed {
        match (e, at) {
            (Event::Introduced(_), None) => vulnerable = true,
            (Event::Introduced(_), Some(at)) if v >= at => vulnerable = true,
            (Event::Fixed(_), Some(at)) if v >= at => vulnerable = false,
            (Event::LastAffected(_), Some(at)) if v > at => vulnerable = false,
            _ => {}
        }
    }
    vulnerable
}

/// The smallest `fixed` version above `version`, as the advisory spells it.
pub fn next_fixed_by<V: Ord>(
    version: &str,
    affected: &AffectedPackage,
    parse: impl Fn(&str) -> Option<V>,
) -> Option<String> {
    let v = parse(version.trim())?;
    affected
        .ranges
        .iter()
        .flatten()
        .filter_map(|e| match e {
            Event::Fixed(t) => parse(t.trim()).map(|f| (f, t)),
            _ => None,
        })
        .filter(|(f, _)| *f > v)
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t.trim().to_string())
}
