//! The two handler forms Lambda's .NET runtimes take.

use crate::DotNetError;

/// A parsed .NET handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// `Assembly::Namespace.Class::Method`: Lambda's runtime loads the
    /// assembly and calls the method.
    ClassLibrary {
        assembly: String,
        type_name: String,
        method: String,
    },
    /// An executable assembly's name: its `Main` starts the runtime client
    /// itself (Amazon.Lambda.RuntimeSupport).
    Executable { assembly: String },
}

fn is_identifier_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '`' || c == '+')
        })
}

fn is_assembly_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Handler {
    pub fn parse(text: &str) -> Result<Handler, DotNetError> {
        let bad = || DotNetError::Handler {
            handler: text.to_owned(),
        };
        let parts: Vec<&str> = text.split("::").collect();
        match parts.as_slice() {
            [assembly] if is_assembly_name(assembly) => Ok(Handler::Executable {
                assembly: (*assembly).to_owned(),
            }),
            [assembly, type_name, method]
                if is_assembly_name(assembly)
                    && is_identifier_path(type_name)
                    && is_identifier_path(method)
                    && !method.contains('.') =>
            {
                Ok(Handler::ClassLibrary {
                    assembly: (*assembly).to_owned(),
                    type_name: (*type_name).to_owned(),
                    method: (*method).to_owned(),
                })
            }
            _ => Err(bad()),
        }
    }

    /// The assembly the handler names (`X` for `X.dll`).
    pub fn assembly(&self) -> &str {
        match self {
            Handler::ClassLibrary { assembly, .. } | Handler::Executable { assembly } => assembly,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse() {
        assert_eq!(
            Handler::parse("ItemsApi::ItemsApi.Function::FunctionHandler").unwrap(),
            Handler::ClassLibrary {
                assembly: "ItemsApi".into(),
                type_name: "ItemsApi.Function".into(),
                method: "FunctionHandler".into()
            }
        );
        assert_eq!(
            Handler::parse("Orders.Consumer").unwrap(),
            Handler::Executable {
                assembly: "Orders.Consumer".into()
            }
        );
        assert_eq!(
            Handler::parse("A::N.Outer+Inner::Run").unwrap().assembly(),
            "A"
        );
    }

    #[test]
    fn malformed_handlers_are_refused() {
        for h in [
            "",
            "app.handler",
            "A::B",
            "A::N.C::",
            "::N.C::M",
            "A::N.C::M::X",
            "A::N..C::M",
            "A::N.C::M.Sub",
            "../A",
            "A B",
        ] {
            let handler = Handler::parse(h);
            if h == "app.handler" {
                // A Python-looking name is a valid executable assembly name.
                assert!(handler.is_ok());
                continue;
            }
            let e = handler.expect_err(h);
            assert!(e.to_string().contains("is not a .NET handler"), "{e}");
        }
    }
}
