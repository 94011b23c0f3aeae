//! Whether a handler's module binds the handler name at its top level, so a
//! handler that cannot be found at import time is refused before it ships.
//!
//! The module is parsed, not pattern-matched: Python's ways of binding a name
//! (`def`, `async def`, `class`, assignment, `import`, `from … import … as`,
//! definitions inside top-level `if` / `try` / `with` / `for` / `match`) are
//! too many for line patterns, and a module that does not parse cannot be
//! imported at all. The parser is `ruff_python_parser`, published by Astral
//! from the Ruff repository: it is the parser Ruff and ty run on most of the
//! world's Python, it follows the current grammar (3.14 included), reports
//! errors with their location, and is pure Rust (no C grammar to compile).
//! `rustpython-parser`, the other pure-Rust choice, is no longer developed
//! (RustPython itself moved to Ruff's parser); `tree-sitter-python` recovers
//! from errors rather than reporting them, which is the opposite of what a
//! check wants.
//!
//! What cannot be seen statically (`globals()[name] = …`, `setattr` on the
//! module, names from `from x import *`) is accepted for star imports and
//! otherwise left to the function's `handler_check = false`.

use ruff_python_ast::{ExceptHandler, Expr, Stmt};

use crate::PythonError;

/// How the module's top level treats `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Binding {
    /// Bound (or possibly bound, by `from x import *`).
    Bound,
    /// Only annotated (`handler: Callable`), at this 1-based line.
    AnnotatedOnly(usize),
    Unbound,
}

/// Checks that `source`, the module at `module_path` in the package, parses
/// and binds `name` at its top level.
pub fn check_handler(source: &str, module_path: &str, name: &str) -> Result<(), PythonError> {
    let parsed = ruff_python_parser::parse_module(source).map_err(|e| {
        let (line, column) = line_column(source, e.location.start().to_usize());
        PythonError::HandlerSyntax {
            module: module_path.to_string(),
            line,
            column,
            message: e.error.to_string(),
        }
    })?;
    match binding(source, &parsed.syntax().body, name) {
        Binding::Bound => Ok(()),
        Binding::AnnotatedOnly(line) => Err(PythonError::HandlerAnnotatedOnly {
            module: module_path.to_string(),
            line,
            name: name.to_string(),
        }),
        Binding::Unbound => Err(PythonError::HandlerUndefined {
            module: module_path.to_string(),
            name: name.to_string(),
        }),
    }
}

fn binding(source: &str, body: &[Stmt], name: &str) -> Binding {
    let mut annotated = None;
    for stmt in body {
        let found = match stmt {
            Stmt::FunctionDef(f) => (f.name.id.as_str() == name).then_some(Binding::Bound),
            Stmt::ClassDef(c) => (c.name.id.as_str() == name).then_some(Binding::Bound),
            Stmt::Assign(a) => a
                .targets
                .iter()
                .any(|t| target_binds(t, name))
                .then_some(Binding::Bound),
            Stmt::AugAssign(a) => target_binds(&a.target, name).then_some(Binding::Bound),
            Stmt::AnnAssign(a) if target_binds(&a.target, name) => Some(match a.value {
                Some(_) => Binding::Bound,
                None => {
                    let start: usize = a.range.start().to_usize();
                    Binding::AnnotatedOnly(line_column(source, start).0)
                }
            }),
            // `import a.b` binds `a`; `import a.b as c` binds `c`.
            Stmt::Import(i) => i
                .names
                .iter()
                .any(|alias| match &alias.asname {
                    Some(asname) => asname.id.as_str() == name,
                    None => alias.name.id.as_str().split('.').next() == Some(name),
                })
                .then_some(Binding::Bound),
            Stmt::ImportFrom(i) => i
                .names
                .iter()
                .any(|alias| {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    bound.id.as_str() == name || alias.name.id.as_str() == "*"
                })
                .then_some(Binding::Bound),
            Stmt::If(s) => nested(
                source,
                name,
                std::iter::once(&s.body[..]).chain(s.elif_else_clauses.iter().map(|c| &c.body[..])),
            ),
            Stmt::Try(t) => nested(
                source,
                name,
                [&t.body[..], &t.orelse[..], &t.finalbody[..]]
                    .into_iter()
                    .chain(
                        t.handlers
                            .iter()
                            .map(|ExceptHandler::ExceptHandler(h)| &h.body[..]),
                    ),
            ),
            Stmt::With(w) => nested(source, name, std::iter::once(&w.body[..])),
            Stmt::For(f) => nested(source, name, [&f.body[..], &f.orelse[..]].into_iter()),
            Stmt::While(w) => nested(source, name, [&w.body[..], &w.orelse[..]].into_iter()),
            Stmt::Match(m) => nested(source, name, m.cases.iter().map(|c| &c.body[..])),
            _ => None,
        };
        match found {
            Some(Binding::Bound) => return Binding::Bound,
            Some(Binding::AnnotatedOnly(line)) => {
                annotated.get_or_insert(line);
            }
            _ => {}
        }
    }
    annotated.map_or(Binding::Unbound, Binding::AnnotatedOnly)
}

/// What the nested bodies of a compound statement do with `name`.
fn nested<'a>(
    source: &str,
    name: &str,
    bodies: impl Iterator<Item = &'a [Stmt]>,
) -> Option<Binding> {
    let mut annotated = None;
    for body in bodies {
        match binding(source, body, name) {
            Binding::Bound => return Some(Binding::Bound),
            Binding::AnnotatedOnly(line) => {
                annotated.get_or_insert(line);
            }
            Binding::Unbound => {}
        }
    }
    annotated.map(Binding::AnnotatedOnly)
}

/// Whether an assignment target binds `name` (`name = …`, `a, name = …`, `*name, = …`).
fn target_binds(target: &Expr, name: &str) -> bool {
    match target {
        Expr::Name(n) => n.id.as_str() == name,
        Expr::Tuple(t) => t.elts.iter().any(|e| target_binds(e, name)),
        Expr::List(l) => l.elts.iter().any(|e| target_binds(e, name)),
        Expr::Starred(s) => target_binds(&s.value, name),
        _ => false,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(source: &str) -> Result<(), PythonError> {
        check_handler(source, "app.py", "handler")
    }

    #[test]
    fn every_way_of_binding_the_name_is_accepted() {
        for source in [
            "def handler(event, context):\n    return 1\n",
            "async def handler(event, context):\n    return 1\n",
            "def   handler (event, context) :\n    return 1\n",
            "from lib import handler\n",
            "from json import dumps as handler\n",
            "from .impl import handler\n",
            "import handler\n",
            "import os.path as handler\n",
            "from lib import *\n",
            "handler = make_handler()\n",
            "handler: Callable = make_handler()\n",
            "app, handler = make()\n",
            "handler = other = make()\n",
            "class handler:\n    def __init__(self, event, context):\n        pass\n",
            "import os\nif os.environ.get('X'):\n    def handler(e, c):\n        return 1\nelse:\n    handler = None\n",
            "try:\n    from fast import handler\nexcept ImportError:\n    from slow import handler\n",
            "try:\n    import x\nexcept ImportError:\n    def handler(e, c): pass\n",
            "with open('f') as f:\n    handler = f.read\n",
            "@decorate\ndef handler(event, context):\n    return 1\n",
            "x = 1\nmatch x:\n    case 1:\n        def handler(e, c): pass\n",
            "def handler(event, context):\n    return f\"{event!r:>10}\"\n",
            "type Alias = int\ndef handler(e, c): pass\n",
        ] {
            check(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        }
    }

    #[test]
    fn syntax_errors_are_refused_with_their_line() {
        let err = check("import json\n\ndef handler(event, context)\n    return 1\n").unwrap_err();
        assert!(
            matches!(err, PythonError::HandlerSyntax { line: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("app.py:3:"), "{err}");
        let err = check("def handler(event, context):\nreturn 1\n").unwrap_err();
        assert!(
            matches!(err, PythonError::HandlerSyntax { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn annotations_and_other_scopes_do_not_bind() {
        let err = check("from typing import Callable\nhandler: Callable\n").unwrap_err();
        assert!(
            matches!(err, PythonError::HandlerAnnotatedOnly { line: 2, .. }),
            "{err}"
        );
        for source in [
            "",
            "def main(event, context):\n    return 1\n",
            "def outer():\n    def handler(e, c):\n        pass\n",
            "class App:\n    def handler(self, e, c):\n        pass\n",
            "# def handler(event, context):\n",
            "\"\"\"\ndef handler(event, context):\n\"\"\"\n",
            "handler == 1\n",
            "print(handler)\n",
            "import handler_utils\n",
            "from handler import run\n",
            "def handler_v2(e, c): pass\n",
        ] {
            let err = check(source).unwrap_err();
            assert!(
                matches!(err, PythonError::HandlerUndefined { .. }),
                "{source:?}: {err}"
            );
        }
    }

    #[test]
    fn lines_and_columns_count_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
