//! A publish folder laid out as `dotnet publish -r linux-x64
//! --self-contained false -p:GenerateRuntimeConfigurationFiles=true` lays it
//! out, for tests on machines without the .NET SDK.

use std::path::Path;

/// The `deps.json` fixture (real NuGet names, versions and hashes; see
/// `tests/fixtures/SOURCE.md`), `ASSEMBLY` standing for the function's name.
pub const DEPS_JSON_TEMPLATE: &str = include_str!("../tests/fixtures/function.deps.json");

/// A small PE file: DOS header, `PE\0\0`, a COFF header for an IL-only
/// (i386 machine) image, and the assembly's name so files differ.
pub fn pe_stub(name: &str) -> Vec<u8> {
    let mut b = vec![0u8; 0x80];
    b[0] = b'M';
    b[1] = b'Z';
    b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    b.extend_from_slice(b"PE\0\0");
    b.extend_from_slice(&0x014cu16.to_le_bytes()); // IMAGE_FILE_MACHINE_I386
    b.extend_from_slice(&[0u8; 18]);
    b.extend_from_slice(name.as_bytes());
    b
}

/// The `runtimeconfig.json` the SDK writes for a framework-dependent app.
pub fn runtimeconfig(major: u32) -> String {
    format!(
        "{{\n  \"runtimeOptions\": {{\n    \"tfm\": \"net{major}.0\",\n    \"framework\": {{\n      \"name\": \"Microsoft.NETCore.App\",\n      \"version\": \"{major}.0.0\"\n    }},\n    \"configProperties\": {{\n      \"System.Reflection.Metadata.MetadataUpdater.IsSupported\": false,\n      \"System.Runtime.Serialization.EnableUnsafeBinaryFormatterSerialization\": false\n    }}\n  }}\n}}\n"
    )
}

/// Writes `assembly`'s publish folder for .NET `major` into `dir`:
/// `<assembly>.dll`, `.deps.json`, `.runtimeconfig.json`, `.pdb`, the
/// project reference's and every package's runtime assembly.
pub fn write_publish_folder(dir: &Path, assembly: &str, major: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes);
    write(
        &format!("{assembly}.deps.json"),
        DEPS_JSON_TEMPLATE.replace("ASSEMBLY", assembly).as_bytes(),
    )?;
    write(
        &format!("{assembly}.runtimeconfig.json"),
        runtimeconfig(major).as_bytes(),
    )?;
    for dll in [
        assembly.to_string(),
        format!("{assembly}.Domain"),
        "Amazon.Lambda.Core".into(),
        "AWSSDK.Core".into(),
        "AWSSDK.SQS".into(),
        "Newtonsoft.Json".into(),
    ] {
        write(&format!("{dll}.dll"), &pe_stub(&dll))?;
    }
    write(&format!("{assembly}.pdb"), b"BSJB portable pdb stub")?;
    Ok(())
}
