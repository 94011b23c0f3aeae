//! Errors and the exit codes they earn, decided in one place for every
//! front end: the CLI maps [`Kind`] to its exit code, `serve` to a message.

use std::path::Path;

/// Who has to act on a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A check failed: verification, a vulnerability gate, drift, a broken
    /// wheel, a function error.
    CheckFailed,
    /// The user's input is wrong: configuration, flags, files they named.
    Input,
    /// The machine let the work down: disk full, permission denied, the
    /// network down. Nothing is wrong with the input; retry elsewhere.
    Environment,
}

impl Kind {
    /// The process exit code slipway promises for this kind.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::CheckFailed => 1,
            Kind::Input => 2,
            Kind::Environment => 3,
        }
    }

    /// The diagnostic code of a failure that carries none of its own, so
    /// JSON errors always name one.
    pub fn default_code(self) -> &'static str {
        match self {
            Kind::CheckFailed => "slipway::check_failed",
            Kind::Input => "slipway::input",
            Kind::Environment => "slipway::environment",
        }
    }
}

/// A command or build that could not finish: the diagnostic and its kind.
pub struct Failure {
    pub report: miette::Report,
    kind: Kind,
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({:?})", self.report, self.kind())
    }
}

impl Failure {
    /// A failure caused by the user's input (exit 2).
    pub fn input(e: impl Into<miette::Report>) -> Failure {
        Failure {
            report: e.into(),
            kind: Kind::Input,
        }
    }

    /// A failure found while doing the work (exit 1).
    pub fn failed(e: impl Into<miette::Report>) -> Failure {
        Failure {
            report: e.into(),
            kind: Kind::CheckFailed,
        }
    }

    /// The machine failed: disk, permissions, network (exit 3).
    pub fn environment(e: impl Into<miette::Report>) -> Failure {
        Failure {
            report: e.into(),
            kind: Kind::Environment,
        }
    }

    /// An I/O error on `path` while trying to `action` it: an environment
    /// failure when the machine caused it, else `otherwise`.
    pub fn io(action: &str, path: &Path, e: std::io::Error, otherwise: Kind) -> Failure {
        let kind = if environment_cause(&e).is_some() {
            Kind::Environment
        } else {
            otherwise
        };
        Failure {
            report: miette::Report::new(IoError {
                message: format!("cannot {action} {}", path.display()),
                help: io_help(&e),
                source: e,
            }),
            kind,
        }
    }

    /// The kind, with one rule over every constructor: an error whose causes
    /// include a full disk, a refused permission or a downed network is the
    /// environment's, whatever the stage that met it thought.
    pub fn kind(&self) -> Kind {
        let chain = self.report.chain();
        for cause in chain {
            if let Some(io) = cause.downcast_ref::<std::io::Error>()
                && environment_cause(io).is_some()
            {
                return Kind::Environment;
            }
        }
        self.kind
    }

    /// The diagnostic code, or the kind's when the error has none.
    pub fn code(&self) -> String {
        let diag: &dyn miette::Diagnostic = self.report.as_ref();
        diag.code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| self.kind().default_code().to_string())
    }

    /// What the environment did, when it is the cause: "the disk is full", …
    pub fn environment_cause(&self) -> Option<&'static str> {
        self.report
            .chain()
            .filter_map(|c| c.downcast_ref::<std::io::Error>())
            .find_map(environment_cause)
    }
}

impl<E: miette::Diagnostic + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::input(miette::Report::new(e))
    }
}

/// An I/O failure with its cause kept (so [`Failure::kind`] can see it).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(slipway::io))]
struct IoError {
    message: String,
    #[help]
    help: Option<&'static str>,
    #[source]
    source: std::io::Error,
}

/// What to do about a failed file operation, by what the system said. Said
/// for reads and writes alike, so it names no flag.
fn io_help(e: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    const FULL: &str = "free space on that disk, then run again";
    const TOO_LARGE: &str = "raise the file size limit (`ulimit -f`), then run again";
    const DENIED: &str = "give this user access to the path, or choose another one";
    Some(match e.kind() {
        K::NotADirectory => {
            "part of the path is a file, not a folder: move that file, or choose another path"
        }
        K::IsADirectory => "a folder is where a file should be: move it, or choose another path",
        K::NotFound => "the path does not exist: check its spelling and that its folders exist",
        K::StorageFull | K::QuotaExceeded => FULL,
        K::FileTooLarge => TOO_LARGE,
        K::PermissionDenied | K::ReadOnlyFilesystem => DENIED,
        _ => match e.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => FULL,
            Some(libc::EFBIG) => TOO_LARGE,
            Some(libc::EACCES | libc::EPERM | libc::EROFS) => DENIED,
            _ => return None,
        },
    })
}

/// A short statement of an environment failure, or `None` when the error is
/// not the machine's doing.
pub fn environment_cause(e: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    let by_kind = match e.kind() {
        K::StorageFull => Some("the disk is full"),
        K::QuotaExceeded => Some("the disk quota is exhausted"),
        K::FileTooLarge => Some("the file size limit was reached"),
        K::PermissionDenied => Some("permission was denied"),
        K::ReadOnlyFilesystem => Some("the file system is read-only"),
        K::NetworkDown => Some("the network is down"),
        K::NetworkUnreachable => Some("the network is unreachable"),
        K::HostUnreachable => Some("the host is unreachable"),
        K::OutOfMemory => Some("the machine is out of memory"),
        _ => None,
    };
    by_kind.or(match e.raw_os_error() {
        Some(libc::ENOSPC) => Some("the disk is full"),
        Some(libc::EDQUOT) => Some("the disk quota is exhausted"),
        Some(libc::EFBIG) => Some("the file size limit was reached"),
        Some(libc::EACCES | libc::EPERM) => Some("permission was denied"),
        Some(libc::EROFS) => Some("the file system is read-only"),
        Some(libc::EMFILE | libc::ENFILE) => Some("too many files are open"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_exit_code_and_a_code() {
        let kinds = [Kind::CheckFailed, Kind::Input, Kind::Environment];
        let codes: std::collections::BTreeSet<u8> = kinds.iter().map(|k| k.exit_code()).collect();
        assert_eq!(codes.len(), kinds.len());
        assert!(!codes.contains(&0));
        for k in kinds {
            assert!(k.default_code().starts_with("slipway::"));
        }
    }

    #[test]
    fn a_full_disk_is_the_environment_whatever_the_stage_said() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let f = Failure::io("write", Path::new("dist/x.zip"), full, Kind::Input);
        assert_eq!(f.kind(), Kind::Environment);
        assert_eq!(f.environment_cause(), Some("the disk is full"));

        // Wrapped in another crate's error that keeps its source.
        let wrapped = slipway_package::PackageError::Io {
            action: "write",
            path: "x.zip".into(),
            source: std::io::Error::from_raw_os_error(libc::EFBIG),
        };
        assert_eq!(Failure::failed(wrapped).kind(), Kind::Environment);

        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let f = Failure::io("read", Path::new("key"), missing, Kind::Input);
        assert_eq!(f.kind(), Kind::Input);
        assert_eq!(f.code(), "slipway::io");
        assert_eq!(
            Failure::failed(miette::miette!("no code")).code(),
            "slipway::check_failed"
        );
    }
}
