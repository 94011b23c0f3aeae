//! The build's settings, resolved once per command from flags, the
//! environment and `slipway.toml` with one precedence rule: a flag beats the
//! environment, which beats `slipway.toml`, which beats the default.

use std::path::PathBuf;

use slipway_config::Project;

use crate::error::Failure;

/// What the front end was asked (flags, or a front end's own equivalent);
/// `None` and empty mean "not said".
#[derive(Debug, Clone, Default)]
pub struct BuildFlags {
    pub out: Option<PathBuf>,
    pub force: bool,
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<PathBuf>,
    pub offline: bool,
    /// Resolve again even when the dependency inputs are unchanged; implies a rebuild.
    pub refresh: bool,
    pub no_build: bool,
    pub python: Option<PathBuf>,
    pub sign: bool,
    pub key: Option<PathBuf>,
}

/// Everything one build needs besides the project, typed and final.
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// The output folder (`dist/` beside slipway.toml unless given).
    pub out: PathBuf,
    pub force: bool,
    /// `SOURCE_DATE_EPOCH` when set: the zip timestamp and evidence time.
    pub source_date_epoch: Option<i64>,
    pub dependencies: DependencySettings,
    pub signing: Option<SigningSettings>,
}

/// Where dependencies come from. Index URLs from flags come first; slipway-python
/// combines them with slipway.toml's `[python]` and pip's environment by the
/// same rule (flag, then file, then environment).
#[derive(Debug, Clone, Default)]
pub struct DependencySettings {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<PathBuf>,
    pub offline: bool,
    /// Ask the index again instead of reusing the last resolution.
    pub refresh: bool,
    pub build_sdists: bool,
    pub python: Option<PathBuf>,
}

/// Sign with this key file, or with the key held in `SLIPWAY_SIGNING_KEY`.
#[derive(Debug, Clone)]
pub struct SigningSettings {
    pub key: Option<PathBuf>,
}

impl BuildSettings {
    /// Resolves the settings. Paths the user typed are taken against the
    /// current folder; `env` reads a variable (the process environment in
    /// the binary, a map in tests).
    pub fn resolve(
        flags: BuildFlags,
        project: &Project,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<BuildSettings, Failure> {
        let user_path = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
        Ok(BuildSettings {
            out: flags
                .out
                .map(user_path)
                .unwrap_or_else(|| project.root.join("dist")),
            force: flags.force,
            source_date_epoch: source_date_epoch(env("SOURCE_DATE_EPOCH"))?,
            dependencies: DependencySettings {
                index_url: flags.index_url,
                extra_index_urls: flags.extra_index_urls,
                find_links: flags.find_links.into_iter().map(user_path).collect(),
                offline: flags.offline,
                refresh: flags.refresh,
                build_sdists: !flags.no_build,
                python: flags.python,
            },
            signing: (flags.sign || flags.key.is_some()).then(|| SigningSettings {
                key: flags.key.map(user_path),
            }),
        })
    }
}

/// `SOURCE_DATE_EPOCH` (the reproducible-builds convention) when set; a
/// value the zip format cannot hold is refused, never silently changed.
fn source_date_epoch(value: Option<String>) -> Result<Option<i64>, Failure> {
    Ok(slipway_package::SourceDateEpoch::parse(value.as_deref())
        .map_err(Failure::input)?
        .map(|e| e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_is_whole_seconds() {
        assert_eq!(source_date_epoch(None).unwrap(), None);
        assert_eq!(source_date_epoch(Some(" ".into())).unwrap(), None);
        assert_eq!(
            source_date_epoch(Some("1700000000".into())).unwrap(),
            Some(1_700_000_000)
        );
        let err = source_date_epoch(Some("yesterday".into())).unwrap_err();
        assert_eq!(err.kind(), crate::Kind::Input);
        assert!(source_date_epoch(Some("-1".into())).is_err());
    }
}
