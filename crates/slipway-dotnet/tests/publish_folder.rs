//! A publish folder laid out as `dotnet publish` writes it, checked and
//! inventoried; and a project without the SDK on PATH.

use std::path::Path;

use slipway_config::{Architecture, Runtime};
use slipway_dotnet::{DotNetError, Request, install, testing};
use slipway_package::select::{SelectedFile, Selector};

fn files(dir: &Path) -> Vec<SelectedFile> {
    Selector::new(dir, &[], &[], &[]).unwrap().select().unwrap()
}

fn run(dir: &Path, runtime: &str, handler: &str) -> Result<slipway_dotnet::Installed, DotNetError> {
    let files = files(dir);
    install(&Request {
        source: dir,
        runtime: Runtime::find(runtime).unwrap(),
        architecture: Architecture::X86_64,
        handler,
        files: &files,
    })
}

const HANDLER: &str = "ItemsApi::ItemsApi.Function::FunctionHandler";

#[test]
fn a_publish_folder_passes_and_lists_its_nuget_packages() {
    let dir = tempfile::tempdir().unwrap();
    testing::write_publish_folder(dir.path(), "ItemsApi", 8).unwrap();
    let installed = run(dir.path(), "dotnet8", HANDLER).unwrap();
    assert!(
        installed.entries.is_empty(),
        "the folder is packaged as the sources"
    );
    assert!(!installed.replaces_sources);
    assert_eq!(installed.distributions.len(), 8);
    // An executable assembly's name is a handler too.
    run(dir.path(), "dotnet8", "ItemsApi").unwrap();
}

#[test]
fn each_missing_or_mismatched_piece_is_named() {
    let dir = tempfile::tempdir().unwrap();
    testing::write_publish_folder(dir.path(), "ItemsApi", 8).unwrap();

    let e = run(dir.path(), "dotnet10", HANDLER).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ItemsApi.runtimeconfig.json: `runtimeOptions.tfm` is `net8.0`, but dotnet10 runs net10.0"
    );

    let e = run(dir.path(), "dotnet8", "Orders::Orders.Function::Handle").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the package has no assembly Orders.dll for the handler's assembly `Orders`"
    );
    let help = miette::Diagnostic::help(&e).unwrap().to_string();
    assert!(
        help.contains("assemblies published here: ItemsApi"),
        "{help}"
    );

    let e = run(dir.path(), "dotnet8", "ItemsApi::Function").unwrap_err();
    assert!(matches!(e, DotNetError::Handler { .. }), "{e}");

    std::fs::remove_file(dir.path().join("ItemsApi.runtimeconfig.json")).unwrap();
    let e = run(dir.path(), "dotnet8", HANDLER).unwrap_err();
    assert!(
        e.to_string()
            .contains("runtime configuration ItemsApi.runtimeconfig.json"),
        "{e}"
    );
    let help = miette::Diagnostic::help(&e).unwrap().to_string();
    assert!(
        help.contains("GenerateRuntimeConfigurationFiles=true"),
        "{help}"
    );

    std::fs::remove_file(dir.path().join("ItemsApi.deps.json")).unwrap();
    let e = run(dir.path(), "dotnet8", HANDLER).unwrap_err();
    assert!(
        e.to_string()
            .contains("dependency manifest ItemsApi.deps.json"),
        "{e}"
    );
}

/// Without the SDK a project is an input error naming what to do. With the
/// SDK (not installed on the machines this was written on) the publish runs.
#[test]
fn a_project_needs_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ItemsApi.csproj"),
        "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>\n",
    )
    .unwrap();
    let sdk = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("dotnet").is_file()));
    if sdk {
        eprintln!("dotnet is installed: the SDK path is exercised by the CLI tests");
        return;
    }
    let e = run(dir.path(), "dotnet8", HANDLER).unwrap_err();
    assert!(matches!(e, DotNetError::NoSdk { major: 8, .. }), "{e}");
    assert!(e.is_input());
    let help = miette::Diagnostic::help(&e).unwrap().to_string();
    assert!(help.contains("install the .NET 8 SDK"), "{help}");
}
