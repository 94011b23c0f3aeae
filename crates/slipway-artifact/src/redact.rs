//! Credentials in URLs, masked before a URL is shown in a message or a report.

/// `raw` with the user information of its URL (user, password, token) shown
/// as `***`: a reader sees that credentials were given, never what they are.
/// Text that does not parse as a URL is masked the same way when it starts
/// with `scheme://userinfo@`, and returned as is otherwise.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(_) => raw.to_string(),
        Err(_) => match raw.split_once("://") {
            Some((scheme, rest)) => {
                let authority_end = rest.find('/').unwrap_or(rest.len());
                match rest[..authority_end].rsplit_once('@') {
                    Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[authority_end..]),
                    None => raw.to_string(),
                }
            }
            None => raw.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn user_information_is_masked_and_everything_else_kept() {
        for (raw, shown) in [
            (
                "https://user:secret@127.0.0.1/simple",
                "https://***@127.0.0.1/simple",
            ),
            (
                "https://token@index.test/simple/",
                "https://***@index.test/simple/",
            ),
            ("ftp://u:p@mirror.test/x", "ftp://***@mirror.test/x"),
            ("http://127.0.0.1/simple", "http://127.0.0.1/simple"),
            // Not a URL (a space in the host): the prefix is still masked.
            ("https://u:p@bad host/x", "https://***@bad host/x"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_url(raw), shown, "{raw}");
        }
    }
}
