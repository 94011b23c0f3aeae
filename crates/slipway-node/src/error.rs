use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum NodeError {
    #[error("cannot {action} {}: {source}", path.display())]
    #[diagnostic(code(slipway::node::io))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: {message}", file.display())]
    #[diagnostic(code(slipway::node::lockfile), help("{help}"))]
    Lockfile {
        file: PathBuf,
        message: String,
        help: String,
    },

    #[error("{}: {message}", file.display())]
    #[diagnostic(
        code(slipway::node::out_of_sync),
        help(
            "package.json and the lockfile disagree, as `npm ci` would say: run `npm install --package-lock-only` and commit both files"
        )
    )]
    OutOfSync { file: PathBuf, message: String },

    #[error("package `{package}`: {message}")]
    #[diagnostic(code(slipway::node::registry), help("{help}"))]
    Registry {
        package: String,
        message: String,
        help: String,
    },

    #[error(
        "package `{package}`: `resolved` {url} is outside the configured registries ({registries})"
    )]
    #[diagnostic(
        code(slipway::node::outside_registry),
        help(
            "slipway downloads only from the registries .npmrc / npm_config_registry name (git, file and other URLs are refused); configure that registry, or regenerate the lockfile against yours"
        )
    )]
    OutsideRegistry {
        package: String,
        url: String,
        registries: String,
    },

    #[error(
        "package `{package}`: integrity mismatch for {url}: the lockfile says {expected}, the download is {actual}"
    )]
    #[diagnostic(
        code(slipway::node::integrity),
        help(
            "the tarball is not the one the lockfile pins; if the lockfile is stale, regenerate it with `npm install --package-lock-only`, otherwise treat this as tampering"
        )
    )]
    Integrity {
        package: String,
        url: String,
        expected: String,
        actual: String,
    },

    #[error("package `{package}`: unsafe tarball entry `{entry}`: {reason}")]
    #[diagnostic(
        code(slipway::node::unsafe_entry),
        help(
            "slipway never writes links, absolute paths or paths leaving the package's folder; report the package to its maintainers"
        )
    )]
    UnsafeEntry {
        package: String,
        entry: String,
        reason: String,
    },

    #[error("package `{package}`: the tarball is not a valid gzip'd tar: {message}")]
    #[diagnostic(code(slipway::node::tarball))]
    Tarball { package: String, message: String },

    #[error("package `{package}` ({path}) is for {wanted}, not Lambda's {target}")]
    #[diagnostic(
        code(slipway::node::platform),
        help(
            "only optional dependencies may be platform-specific; depend on a package that supports linux, or make it optional"
        )
    )]
    Platform {
        package: String,
        path: String,
        wanted: String,
        target: String,
    },

    #[error(
        "package `{package}` ({path}) is a native addon (binding.gyp) with no prebuilt binary; slipway never runs install scripts"
    )]
    #[diagnostic(
        code(slipway::node::native_addon),
        help(
            "use a version that ships prebuilt linux binaries, or list `{package}` in `[nodejs] accept_native` (slipway.toml) if you add the binary yourself"
        )
    )]
    NativeAddon { package: String, path: String },

    #[error("package `{package}` is not in the cache and --offline forbids downloading it")]
    #[diagnostic(
        code(slipway::node::offline),
        help("build once without --offline to fill the cache")
    )]
    Offline { package: String },
}
