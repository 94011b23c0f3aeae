use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum DotNetError {
    #[error("{runtime} is not a .NET runtime")]
    #[diagnostic(
        code(slipway::dotnet::not_dotnet),
        help(".NET runtimes are dotnet8 and dotnet10")
    )]
    NotDotNet { runtime: String },

    #[error("`{handler}` is not a .NET handler")]
    #[diagnostic(
        code(slipway::dotnet::handler),
        help(
            "write `Assembly::Namespace.Class::Method` for a class library (e.g. `ItemsApi::ItemsApi.Function::Handle`), or the assembly's name for an executable assembly that starts its own runtime client"
        )
    )]
    Handler { handler: String },

    #[error("{} holds the project {}, and `dotnet` is not on PATH to publish it", source_dir.display(), project.display())]
    #[diagnostic(
        code(slipway::dotnet::no_sdk),
        help(
            "install the .NET {major} SDK (or build in its official image), or run `dotnet publish -c Release -r linux-x64 --self-contained false -p:GenerateRuntimeConfigurationFiles=true` yourself and point `source` at the publish folder"
        )
    )]
    NoSdk {
        source_dir: PathBuf,
        project: PathBuf,
        major: u32,
    },

    #[error("{} holds {count} projects ({names}); slipway cannot tell which one is the function", source_dir.display())]
    #[diagnostic(
        code(slipway::dotnet::which_project),
        help("point `source` at the folder of the function's own project")
    )]
    WhichProject {
        source_dir: PathBuf,
        count: usize,
        names: String,
    },

    #[error("`{command}` failed:\n{output}")]
    #[diagnostic(
        code(slipway::dotnet::publish_failed),
        help("the SDK's messages are above; fix the project and build again")
    )]
    PublishFailed { command: String, output: String },

    #[error("the package has no {missing} for the handler's assembly `{assembly}`")]
    #[diagnostic(code(slipway::dotnet::missing), help("{help}"))]
    Missing {
        assembly: String,
        missing: String,
        help: String,
    },

    #[error("{file}: `{key}` is `{found}`, but {runtime} runs {expected}")]
    #[diagnostic(
        code(slipway::dotnet::framework),
        help(
            "publish for the runtime (`<TargetFramework>{expected}</TargetFramework>`), or set `runtime` to the one that matches the project"
        )
    )]
    Framework {
        file: String,
        key: String,
        found: String,
        expected: String,
        runtime: String,
    },

    #[error("{file}: {message}")]
    #[diagnostic(code(slipway::dotnet::bad_file), help("{help}"))]
    BadFile {
        file: String,
        message: String,
        help: String,
    },

    #[error("cannot {action} {}: {source}", path.display())]
    #[diagnostic(code(slipway::dotnet::io))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DotNetError {
    /// Input problems (exit 2) as opposed to failed tools and I/O (exit 1).
    pub fn is_input(&self) -> bool {
        !matches!(self, DotNetError::Io { .. })
    }
}
