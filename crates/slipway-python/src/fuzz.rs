//! Property tests standing in for fuzzing: the parsers of wheel file names,
//! `METADATA`, `RECORD`, requirements files, `pyproject.toml`, `uv.lock` and
//! Python handler modules return a value or an error for any input, never
//! panic. Case counts are bounded so they run in every `cargo test`.

use proptest::prelude::*;

use crate::Target;

/// Text built from fragments these formats are made of, so inputs reach past
/// the first line's checks, mixed with arbitrary characters.
fn fragments(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(pieces).prop_map(str::to_string),
            1 => "\\PC{0,12}",
            1 => prop::sample::select(&["\n", "\r\n", " ", "\t", "\\\n", "\u{0}", "é", "\u{feff}"][..])
                .prop_map(str::to_string),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

const REQUIREMENTS: &[&str] = &[
    "requests",
    "==",
    ">=",
    "2.31.0",
    "; python_version < \"3.13\"",
    "--hash=sha256:",
    "--index-url ",
    "-r ",
    "-c ",
    "-e ",
    "[extra]",
    "@ https://x/y.whl",
    "#",
    "\n",
    "${HOME}",
    "--extra-index-url=",
    "numpy~=1.26",
    "name @ file:///x",
    "===1",
    "!=",
];

const METADATA: &[&str] = &[
    "Metadata-Version: 2.1\n",
    "Name: ",
    "Version: ",
    "Requires-Dist: ",
    "License: ",
    "License-Expression: ",
    "Classifier: License :: OSI Approved :: MIT License\n",
    "Provides-Extra: ",
    "six",
    "1.16.0",
    "; extra == \"x\"",
    "\n\n",
    "        ",
    ":",
];

const RECORD: &[&str] = &[
    "pkg/__init__.py",
    ",",
    "sha256=",
    "abc",
    "\"",
    "\n",
    "123",
    "-1",
    "pkg-1.0.dist-info/RECORD,,",
];

const TOML: &[&str] = &[
    "[project]\n",
    "dependencies = [",
    "]",
    "\"requests>=2\"",
    ",",
    "\n",
    "name = \"x\"\n",
    "[[package]]\n",
    "version = \"1.0\"\n",
    "source = { registry = \"https://x/simple\" }\n",
    "wheels = [{ url = \"https://x/a-1.0-py3-none-any.whl\", hash = \"sha256:00\" }]\n",
    "dependencies = [{ name = \"b\" }]\n",
    "[tool.uv]\n",
    "{",
    "}",
    "=",
    "\"",
];

const PYTHON: &[&str] = &[
    "def ",
    "handler",
    "(event, context):",
    "\n",
    "    ",
    "return 1",
    "class ",
    "if x:",
    "try:",
    "except:",
    "from a import ",
    " as ",
    "import ",
    "=",
    ":",
    "async ",
    "@d\n",
    "'''",
    "\"",
    "f\"{",
    "}",
    "(",
    ")",
    "match x:",
    "case 1:",
    "lambda: 0",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn wheel_names_never_panic(name in fragments(&[
        "pkg", "-", "1.0", "py3", "none", "any", "cp312", "manylinux_2_17_x86_64", ".", ".whl", "_", "1a",
    ])) {
        let _ = crate::WheelName::parse(&name);
        let _ = crate::wheel_name::SdistName::parse(&name);
    }

    #[test]
    fn metadata_never_panics(text in fragments(METADATA)) {
        let _ = crate::metadata::CoreMetadata::parse(&text);
    }

    #[test]
    fn record_never_panics(text in fragments(RECORD)) {
        let _ = crate::install::parse_record(&text);
    }

    #[test]
    fn dependency_files_never_panic(
        requirements in fragments(REQUIREMENTS),
        toml in fragments(TOML),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let env = Target::new("python3.12", 12, slipway_config::Architecture::X86_64, (2, 34))
            .marker_environment();
        for (name, text) in [
            ("requirements.txt", &requirements),
            ("pyproject.toml", &toml),
            ("uv.lock", &toml),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let _ = crate::requirements::read(&path, &env);
        }
    }

    #[test]
    fn handler_modules_never_panic(source in fragments(PYTHON)) {
        let _ = crate::handler::check_handler(&source, "app.py", "handler");
    }
}

/// What the property tests found: pep508_rs panicked on these.
#[test]
fn requirement_names_that_crashed_the_parser_are_errors() {
    for text in ["A-ዘ", "a_é>=1", "pkg.ü", "  x-ä ; python_version > '3'"] {
        assert!(crate::requirements::parse_pep508(text).is_err(), "{text}");
        assert!(
            crate::metadata::CoreMetadata::parse(&format!("Requires-Dist: {text}\n")).is_err(),
            "{text}"
        );
    }
    assert!(crate::requirements::parse_pep508("a-b>=1").is_ok());
}
