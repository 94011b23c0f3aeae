use std::path::PathBuf;

/// Everything that can go wrong while loading advisories, reading ignore
/// files or writing reports.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum VulnError {
    #[error("cannot read the advisory database at {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::scan::db_unreadable),
        help(
            "give `--db` a folder of OSV JSON/YAML files, an OSV `all.zip`, a file written by `slipway db update`, a URL of one of these, or `index`"
        )
    )]
    DbUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot read the ignore file {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::scan::ignore_unreadable),
        help("check the path given to `--ignore-file`")
    )]
    IgnoreUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot read the SBOM {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::scan::sbom_unreadable),
        help("rebuild it with `slipway build`, or pass `--no-sbom` to skip the VEX")
    )]
    SbomUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{} is not an advisory database: {reason}", path.display())]
    #[diagnostic(
        code(slipway::scan::db_format),
        help(
            "an advisory database is a folder of OSV files, an OSV `all.zip`, or a file written by `slipway db update`"
        )
    )]
    DbFormat { path: PathBuf, reason: String },

    #[error("cannot download the advisory database from {url}: {reason}")]
    #[diagnostic(
        code(slipway::scan::db_download),
        help("check the URL, or download it yourself and pass the file with `--db PATH`")
    )]
    Download { url: String, reason: String },

    #[error("the package index at {url} did not answer for {package} {version}: {reason}")]
    #[diagnostic(
        code(slipway::scan::index),
        help(
            "check `--index-url`, `[python] index_url`, PIP_INDEX_URL or UV_DEFAULT_INDEX; offline, scan with the bundled snapshot or `--db PATH`"
        )
    )]
    Index {
        url: String,
        package: String,
        version: String,
        reason: String,
    },

    #[error("no package index is configured for `--db index`")]
    #[diagnostic(
        code(slipway::scan::no_index),
        help(
            "pass `--index-url URL`, set `[python] index_url` in slipway.toml, or set PIP_INDEX_URL / UV_DEFAULT_INDEX"
        )
    )]
    NoIndex,

    #[error("{}:{line}: {message}", path.display())]
    #[diagnostic(
        code(slipway::scan::ignore_file),
        help(
            "each entry is `[[ignore]]` with `id = \"…\"`, `reason = \"…\"` and optionally `until = 2027-01-31`"
        )
    )]
    IgnoreFile {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::scan::write),
        help("check that the folder exists and is writable")
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{} is not valid JSON: {source}", path.display())]
    #[diagnostic(
        code(slipway::scan::sbom_malformed),
        help("rebuild the SBOM with `slipway build`, or delete it to skip the VEX merge")
    )]
    SbomMalformed {
        path: PathBuf,
        source: serde_json::Error,
    },
}
