//! How a .NET or custom-runtime function's process starts: what Lambda's
//! own `bootstrap` does for those runtimes, on this machine.
//!
//! - `provided.*`: the package's `bootstrap` is the runtime; it runs as is.
//! - `dotnet*`: `dotnet exec` with the handler assembly's `deps.json` and
//!   `runtimeconfig.json`, running the assembly itself (an executable
//!   assembly starts its own runtime client) or, for a class-library handler,
//!   Amazon.Lambda.RuntimeSupport — Lambda's own runtime client — from the
//!   package, which then loads the handler. It needs a .NET runtime here.

use std::path::{Path, PathBuf};

use slipway_artifact::{Runtime, RuntimeFamily};

use crate::LocalError;
use crate::task::TaskRoot;

/// The runtime family a built function's runtime belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// `python3.minor`.
    Python { minor: u32 },
    /// `nodejsNN.x`: the built-in bootstrap under the machine's `node`.
    Node { major: u32 },
    /// `provided.al2023` / `provided.al2`: the package's `bootstrap`.
    Bootstrap,
    /// `dotnetN`.
    DotNet { major: u32 },
}

impl Launch {
    /// How a runtime's process starts; slipway starts every runtime it knows.
    pub fn of(runtime: &Runtime) -> Launch {
        match runtime.family {
            RuntimeFamily::Python { minor } => Launch::Python { minor },
            RuntimeFamily::NodeJs { major } => Launch::Node { major },
            RuntimeFamily::OsOnly => Launch::Bootstrap,
            RuntimeFamily::DotNet { major } => Launch::DotNet { major },
        }
    }
}

/// The class Lambda's .NET runtime starts for class-library handlers.
const RUNTIME_SUPPORT: &str = "Amazon.Lambda.RuntimeSupport.dll";

fn dotnet_host() -> Option<PathBuf> {
    let from_root = std::env::var_os("DOTNET_ROOT").map(|r| PathBuf::from(r).join("dotnet"));
    from_root
        .into_iter()
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("dotnet"))
                .collect::<Vec<_>>()
        }))
        .find(|p| p.is_file())
}

/// The program and arguments that start the function's runtime in `task`.
pub fn command(task: &TaskRoot, function: &str) -> Result<(PathBuf, Vec<String>), LocalError> {
    match Launch::of(task.runtime) {
        Launch::Bootstrap => {
            let bootstrap = task.task.join("bootstrap");
            if !bootstrap.is_file() {
                return Err(LocalError::NativeRuntime {
                    function: function.to_owned(),
                    message: "the package has no `bootstrap` at its root".into(),
                    help:
                        "rebuild it: `slipway build` checks that a custom runtime's package has one"
                            .into(),
                });
            }
            Ok((bootstrap, Vec::new()))
        }
        Launch::DotNet { major } => dotnet_command(&task.task, &task.handler, major, function),
        // Python and Node.js start under the interpreter the caller chose;
        // without one there is nothing here to start them with.
        Launch::Python { .. } | Launch::Node { .. } => Err(LocalError::UnsupportedRuntime {
            function: function.to_owned(),
            runtime: task.runtime.id.to_owned(),
        }),
    }
}

fn dotnet_command(
    task: &Path,
    handler: &str,
    major: u32,
    function: &str,
) -> Result<(PathBuf, Vec<String>), LocalError> {
    let Some(dotnet) = dotnet_host() else {
        return Err(LocalError::NativeRuntime {
            function: function.to_owned(),
            message: format!(
                "no .NET runtime is installed here (`dotnet` is not on PATH or in DOTNET_ROOT), so dotnet{major} functions cannot run locally"
            ),
            help: format!(
                "install the .NET {major} runtime (`dotnet-runtime-{major}.0`, or the SDK) and run again"
            ),
        });
    };
    let assembly = handler.split("::").next().unwrap_or(handler);
    let path = |name: String| task.join(name).display().to_string();
    let mut args = vec![
        "exec".to_owned(),
        "--depsfile".to_owned(),
        path(format!("{assembly}.deps.json")),
        "--runtimeconfig".to_owned(),
        path(format!("{assembly}.runtimeconfig.json")),
    ];
    if handler.contains("::") {
        if !task.join(RUNTIME_SUPPORT).is_file() {
            return Err(LocalError::NativeRuntime {
                function: function.to_owned(),
                message: format!("the class-library handler `{handler}` runs inside Lambda's .NET runtime client, which Lambda provides and this machine does not"),
                help: "add the Amazon.Lambda.RuntimeSupport package to the project (it then ships in the package and slipway runs it), or make the assembly executable with `LambdaBootstrapBuilder` and set `handler` to the assembly's name".into(),
            });
        }
        args.push(path(RUNTIME_SUPPORT.to_owned()));
        args.push(handler.to_owned());
    } else {
        args.push(path(format!("{assembly}.dll")));
    }
    Ok((dotnet, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_map_to_launches() {
        let launch = |id| Launch::of(Runtime::find(id).unwrap());
        assert_eq!(launch("python3.12"), Launch::Python { minor: 12 });
        assert_eq!(launch("provided.al2023"), Launch::Bootstrap);
        assert_eq!(launch("dotnet8"), Launch::DotNet { major: 8 });
        assert_eq!(launch("nodejs22.x"), Launch::Node { major: 22 });
    }
}
