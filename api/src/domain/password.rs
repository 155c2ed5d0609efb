use secrecy::{ExposeSecret, SecretString};

use crate::error::FieldError;

/// A new password chosen by a person: 8–128 characters, not only spaces. Kept secret so it never
/// reaches a log through `Debug`.
#[derive(Clone, Debug)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(FieldError::new(
                field,
                "too_short",
                "a password has at least 8 characters",
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                "too_long",
                "a password has at most 128 characters",
            ));
        }
        if raw.trim().is_empty() {
            return Err(FieldError::new(
                field,
                "blank",
                "a password cannot be only spaces",
            ));
        }
        Ok(Password(SecretString::from(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_blank_passwords_are_refused() {
        assert_eq!(
            Password::parse("short", "password")
                .expect_err("short")
                .code,
            "too_short"
        );
        assert_eq!(
            Password::parse(&"x".repeat(129), "p")
                .expect_err("long")
                .code,
            "too_long"
        );
        assert_eq!(
            Password::parse("          ", "p").expect_err("blank").code,
            "blank"
        );
        assert_eq!(
            Password::parse("mật khẩu đủ dài", "p")
                .expect("valid")
                .expose(),
            "mật khẩu đủ dài"
        );
    }

    #[test]
    fn debug_output_hides_the_password() {
        let p = Password::parse("correct horse battery", "password").expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
    }
}
