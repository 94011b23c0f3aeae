//! Every native binary a package ships (a wheel's shared objects, a custom
//! runtime's `bootstrap`) must be built for the target's machine and need no
//! glibc symbol version newer than the runtime's glibc.

use object::read::elf::{FileHeader, Sym};
use object::{Endianness, FileKind};
use serde::{Deserialize, Serialize};

/// What a binary must run on: the runtime's name (for messages), its ELF
/// machine name (`x86_64`, `aarch64`) and its glibc as (major, minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfTarget<'a> {
    pub runtime: &'a str,
    pub machine: &'a str,
    pub glibc: (u32, u32),
}

/// What a shared object needs from the system, read once per wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfFacts {
    /// Path inside the package.
    pub path: String,
    /// `x86_64`, `aarch64`, or another ELF machine name.
    pub machine: String,
    /// 64-bit ELF.
    pub is_64: bool,
    /// Each `GLIBC_x.y` version the object needs, with one symbol that needs it.
    pub glibc: Vec<GlibcNeed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlibcNeed {
    pub version: (u32, u32),
    pub symbol: String,
}

/// `true` for file names the dynamic loader may open (`x.so`, `libx.so.1`).
pub fn looks_like_shared_object(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".so") || name.contains(".so.")
}

/// Reads what `bytes` needs; `None` when it is not an ELF file.
pub fn inspect(path: &str, bytes: &[u8]) -> Result<Option<ElfFacts>, String> {
    match FileKind::parse(bytes) {
        Ok(FileKind::Elf64) => {
            inspect_as::<object::elf::FileHeader64<Endianness>>(path, bytes, true).map(Some)
        }
        Ok(FileKind::Elf32) => {
            inspect_as::<object::elf::FileHeader32<Endianness>>(path, bytes, false).map(Some)
        }
        _ => Ok(None),
    }
}

fn inspect_as<Elf: FileHeader<Endian = Endianness>>(
    path: &str,
    bytes: &[u8],
    is_64: bool,
) -> Result<ElfFacts, String> {
    let header = Elf::parse(bytes).map_err(|e| e.to_string())?;
    let endian = header.endian().map_err(|e| e.to_string())?;
    let machine = match header.e_machine(endian) {
        object::elf::EM_X86_64 => "x86_64".to_string(),
        object::elf::EM_AARCH64 => "aarch64".to_string(),
        object::elf::EM_386 => "i386".to_string(),
        object::elf::EM_ARM => "arm".to_string(),
        other => format!("ELF machine {other}"),
    };
    let sections = header.sections(endian, bytes).map_err(|e| e.to_string())?;
    let symbols = sections
        .symbols(endian, bytes, object::elf::SHT_DYNSYM)
        .map_err(|e| e.to_string())?;
    let versions = sections
        .versions(endian, bytes)
        .map_err(|e| e.to_string())?;
    let mut needs: Vec<GlibcNeed> = Vec::new();
    if let Some(versions) = &versions {
        for (index, symbol) in symbols.enumerate() {
            if !symbol.is_undefined(endian) {
                continue;
            }
            let vindex = versions.version_index(endian, index);
            let Ok(Some(version)) = versions.version(vindex.index()) else {
                continue;
            };
            let Some(v) = parse_glibc_version(version.name()) else {
                continue;
            };
            if needs.iter().any(|n| n.version == v) {
                continue;
            }
            let name = symbols
                .symbol_name(endian, symbol)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            needs.push(GlibcNeed {
                version: v,
                symbol: name,
            });
        }
    }
    needs.sort_by_key(|n| std::cmp::Reverse(n.version));
    Ok(ElfFacts {
        path: path.to_string(),
        machine,
        is_64,
        glibc: needs,
    })
}

/// `GLIBC_2.28` → (2, 28); `GLIBC_PRIVATE` and other names → `None`.
fn parse_glibc_version(name: &[u8]) -> Option<(u32, u32)> {
    let s = std::str::from_utf8(name).ok()?.strip_prefix("GLIBC_")?;
    let mut parts = s.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().unwrap_or("0").parse().ok()?;
    Some((major, minor))
}

/// Violations of `facts` on `target`, one sentence each, naming the file and
/// symbol; `origin` (a wheel's file name) is named too when not empty.
pub fn violations(facts: &ElfFacts, origin: &str, target: &ElfTarget) -> Vec<String> {
    let from = if origin.is_empty() {
        String::new()
    } else {
        format!(" (from {origin})")
    };
    let mut out = Vec::new();
    if facts.machine != target.machine || !facts.is_64 {
        out.push(format!(
            "{}{from} is built for {}{}; {} runs on {}",
            facts.path,
            facts.machine,
            if facts.is_64 { "" } else { " (32-bit)" },
            target.runtime,
            target.machine
        ));
    }
    for need in &facts.glibc {
        if need.version > target.glibc {
            out.push(format!(
                "{}{from} needs GLIBC_{}.{} for `{}`; {} has glibc {}.{}",
                facts.path,
                need.version.0,
                need.version.1,
                need.symbol,
                target.runtime,
                target.glibc.0,
                target.glibc.1
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_config::Architecture;

    /// The machine's own libc-linked objects are real ELF files with GLIBC versions.
    fn host_shared_object() -> Option<(String, Vec<u8>)> {
        for p in [
            "/usr/lib/x86_64-linux-gnu/libz.so.1",
            "/lib/x86_64-linux-gnu/libz.so.1",
            "/usr/lib/aarch64-linux-gnu/libz.so.1",
            "/lib64/libz.so.1",
        ] {
            if let Ok(b) = std::fs::read(p) {
                return Some((p.to_string(), b));
            }
        }
        None
    }

    #[test]
    fn reads_machine_and_glibc_versions_of_a_real_library() {
        let (path, bytes) = host_shared_object().expect("libz on the build machine");
        let facts = inspect(&path, &bytes).unwrap().unwrap();
        assert_eq!(facts.machine, std::env::consts::ARCH);
        assert!(!facts.glibc.is_empty(), "libz uses versioned glibc symbols");
        // A target whose glibc is older than anything the library needs reports it, naming a symbol.
        let host = Architecture::host().unwrap().machine();
        let ancient = ElfTarget {
            runtime: "python3.x",
            machine: host,
            glibc: (2, 1),
        };
        let v = violations(&facts, "demo.whl", &ancient);
        assert!(
            v.iter()
                .any(|m| m.contains("needs GLIBC_2.") && m.contains('`')),
            "{v:?}"
        );
        let other_arch = match Architecture::host().unwrap() {
            Architecture::X86_64 => Architecture::Arm64,
            Architecture::Arm64 => Architecture::X86_64,
        };
        let v = violations(
            &facts,
            "",
            &ElfTarget {
                runtime: "python3.12",
                machine: other_arch.machine(),
                glibc: (2, 99),
            },
        );
        assert!(v[0].contains("is built for"), "{v:?}");
        assert!(!v[0].contains("(from"), "{v:?}");
        assert_eq!(inspect("x.py", b"print(1)").unwrap(), None);
    }
}
