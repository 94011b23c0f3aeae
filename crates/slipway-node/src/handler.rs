//! Node.js handlers: `index.handler` is `index.js`, `index.mjs` or
//! `index.cjs` in the package, loaded as an ES module or CommonJS as Lambda's
//! runtime loads it (by extension, then the nearest package.json `"type"`).

/// How the runtime loads a handler's module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    CommonJs,
    EsModule,
}

/// The handler's file and how it is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerModule {
    pub file: String,
    pub kind: ModuleKind,
    pub function: String,
}

/// The files a module path may be, in the runtime's order.
pub fn candidates(handler: &str) -> Option<(Vec<String>, String)> {
    let (module, function) = handler.rsplit_once('.')?;
    if module.is_empty() || function.is_empty() {
        return None;
    }
    Some((
        ["js", "mjs", "cjs"]
            .iter()
            .map(|ext| format!("{module}.{ext}"))
            .collect(),
        function.to_string(),
    ))
}

/// Finds the handler among `files` (zip paths); `package_type` reads the
/// `"type"` of the package.json at a folder path (`""` for the root).
pub fn resolve(
    handler: &str,
    files: &[&str],
    package_type: impl Fn(&str) -> Option<String>,
) -> Option<HandlerModule> {
    let (names, function) = candidates(handler)?;
    let file = names.into_iter().find(|n| files.contains(&n.as_str()))?;
    let kind = if file.ends_with(".mjs") {
        ModuleKind::EsModule
    } else if file.ends_with(".cjs") {
        ModuleKind::CommonJs
    } else {
        // The nearest package.json with a "type" decides, as in Node.js.
        let mut dir = file.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        loop {
            if let Some(t) = package_type(&dir) {
                break if t == "module" {
                    ModuleKind::EsModule
                } else {
                    ModuleKind::CommonJs
                };
            }
            if dir.is_empty() {
                break ModuleKind::CommonJs;
            }
            dir = dir.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        }
    };
    Some(HandlerModule {
        file,
        kind,
        function,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_then_package_type_decides() {
        let none = |_: &str| None;
        let m = resolve("index.handler", &["index.mjs"], none).unwrap();
        assert_eq!(
            (m.file.as_str(), m.kind),
            ("index.mjs", ModuleKind::EsModule)
        );
        let m = resolve(
            "src/app.main",
            &["src/app.js", "package.json"],
            |d: &str| (d.is_empty()).then(|| "module".to_string()),
        )
        .unwrap();
        assert_eq!(
            (m.kind, m.function.as_str()),
            (ModuleKind::EsModule, "main")
        );
        let m = resolve("index.handler", &["index.js", "index.cjs"], none).unwrap();
        assert_eq!(
            (m.file.as_str(), m.kind),
            ("index.js", ModuleKind::CommonJs)
        );
        assert!(resolve("index.handler", &["app.js"], none).is_none());
        assert!(resolve("nohandler", &["nohandler.js"], none).is_none());
    }
}
