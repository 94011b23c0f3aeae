use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum PackageError {
    #[error("cannot {action} {}: {source}", path.display())]
    #[diagnostic(code(slipway::package::io))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{path}` would be written twice: by {first} and by {second}")]
    #[diagnostic(
        code(slipway::package::duplicate_path),
        help("two inputs claim the same file in the package; exclude one of them")
    )]
    DuplicatePath {
        path: String,
        first: String,
        second: String,
    },

    #[error("unsafe path `{path}` from {origin}: {reason}")]
    #[diagnostic(
        code(slipway::package::unsafe_path),
        help("package paths must be relative, use `/`, and never leave the package root")
    )]
    UnsafePath {
        path: String,
        origin: String,
        reason: &'static str,
    },

    #[error("{} is a symlink to {}, outside the source folder {}", link.display(), target.display(), source_dir.display())]
    #[diagnostic(
        code(slipway::package::symlink_outside),
        help("copy the file into the source folder, or exclude the link with an `exclude` glob")
    )]
    SymlinkOutside {
        link: PathBuf,
        target: PathBuf,
        source_dir: PathBuf,
    },

    #[error("{} is a symlink to {}, a folder that contains it: following it would never end", link.display(), target.display())]
    #[diagnostic(
        code(slipway::package::symlink_loop),
        help("remove the link, or leave it out with an `exclude` glob")
    )]
    SymlinkLoop { link: PathBuf, target: PathBuf },

    #[error("`{name}` in {} is not a valid UTF-8 file name", dir.display())]
    #[diagnostic(
        code(slipway::package::non_utf8_name),
        help(
            "zip entries and Lambda's file system use UTF-8 names; rename the file, or leave it out with an `exclude` glob (`\\xNN` marks each byte that is not UTF-8)"
        )
    )]
    NonUtf8Name {
        /// The name with each byte that is not UTF-8 written as `\xNN`.
        name: String,
        dir: PathBuf,
    },

    #[error("refusing to package {path}: it looks like a secret ({reason})")]
    #[diagnostic(
        code(slipway::package::secret),
        help(
            "if it really belongs in the package, list it in the function's `include`, e.g. include = [\"{path}\"]"
        )
    )]
    Secret { path: String, reason: String },

    #[error("SOURCE_DATE_EPOCH=`{value}` {reason}")]
    #[diagnostic(
        code(slipway::build::source_date_epoch),
        help(
            "set it to whole seconds since 1970-01-01 UTC up to 4354819199 (2107-12-31), e.g. `SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`"
        )
    )]
    SourceDateEpoch { value: String, reason: &'static str },

    #[error("`{glob}` in `{key}` is not a valid glob: {message}")]
    #[diagnostic(code(slipway::package::glob))]
    Glob {
        key: &'static str,
        glob: String,
        message: String,
    },

    #[error(
        "the package holds {count} entries; the zip format slipway writes allows at most {max}"
    )]
    #[diagnostic(
        code(slipway::package::too_many_entries),
        help("exclude files the function does not need")
    )]
    TooManyEntries { count: usize, max: usize },

    #[error("`{path}` is {size} bytes; a package entry must be under 4 GiB")]
    #[diagnostic(
        code(slipway::package::entry_too_large),
        help("Lambda's unzipped limit is 250 MB; exclude it")
    )]
    EntryTooLarge { path: String, size: u64 },
}

impl PackageError {
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> PackageError {
        let path = path.into();
        move |source| PackageError::Io {
            action,
            path,
            source,
        }
    }
}
