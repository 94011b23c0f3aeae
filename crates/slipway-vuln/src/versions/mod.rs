//! Version orderings of the ecosystems whose OSV advisories use
//! `ECOSYSTEM` ranges: a range is only as right as the ordering it walks.

pub mod nuget;
pub mod ranges;
