//! A credential that can be sent but never shown.

use std::fmt;
use std::path::Path;

use crate::error::PromError;

/// A credential (token, password, header value). `Debug` and `Display` print `***`, it is not
/// serializable, and only this crate reads its content — to put it on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Reads a credential from a file (`--bearer-token-file`, `--basic-auth-password-file`).
    /// Trailing whitespace is dropped: token files usually end with a newline, which is not part
    /// of the token and is not allowed in a header.
    pub fn from_file(path: &Path) -> Result<Secret, PromError> {
        let setting = format!("credential file `{}`", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| PromError::BadSetting {
            setting: setting.clone(),
            reason: format!("cannot read it ({e})"),
        })?;
        let value = text.trim_end();
        if value.is_empty() {
            return Err(PromError::BadSetting {
                setting,
                reason: "it is empty".into(),
            });
        }
        Ok(Secret(value.to_string()))
    }

    /// The content, for the request headers only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_content() {
        let secret = Secret::new("hunter2");
        assert_eq!(
            format!("{secret} {secret:?} {:?}", Some(&secret)),
            "*** *** Some(***)"
        );
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn file_content_loses_its_trailing_newline_and_empty_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("sol-prom-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "abc.def\n").unwrap();
        assert_eq!(Secret::from_file(&token).unwrap().expose(), "abc.def");
        std::fs::write(&token, "\n").unwrap();
        let empty = Secret::from_file(&token).unwrap_err().to_string();
        assert!(
            empty.contains("token") && empty.contains("empty"),
            "{empty}"
        );
        let missing = Secret::from_file(&dir.join("absent")).unwrap_err();
        assert!(missing.to_string().contains("absent") && missing.is_input_error());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
