use crate::error::FieldError;

/// A login name: 3–64 characters of `a-z 0-9 . _ -`, stored lower-case so `Lan.NT` and `lan.nt` are
/// the same account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let err = |code: &str, msg: &str| FieldError::new("username", code, msg);
        if value.chars().count() < 3 {
            return Err(err("too_short", "a username has at least 3 characters"));
        }
        if value.chars().count() > 64 {
            return Err(err("too_long", "a username has at most 64 characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(err(
                "invalid_characters",
                "a username uses only letters a–z without diacritics, digits, '.', '_' and '-'",
            ));
        }
        Ok(Username(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_insensitive() {
        assert_eq!(
            Username::parse(" Lan.NT ").expect("valid").as_str(),
            "lan.nt"
        );
    }

    #[test]
    fn diacritics_spaces_and_short_names_are_refused() {
        assert_eq!(
            Username::parse("đức").expect_err("diacritic").code,
            "invalid_characters"
        );
        assert_eq!(
            Username::parse("van duc").expect_err("space").code,
            "invalid_characters"
        );
        assert_eq!(Username::parse("ab").expect_err("short").code, "too_short");
        assert_eq!(
            Username::parse(&"a".repeat(65)).expect_err("long").code,
            "too_long"
        );
    }
}
