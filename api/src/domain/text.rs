use crate::error::FieldError;

/// A person's name as shown in the app: 1–120 characters after trimming, no control characters.
/// Stored as given (Vietnamese diacritics kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(FieldError::new(
                field,
                "required",
                "the name cannot be empty",
            ));
        }
        if value.chars().count() > 120 {
            return Err(FieldError::new(
                field,
                "too_long",
                "the name has at most 120 characters",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "invalid_characters",
                "the name has control characters",
            ));
        }
        Ok(DisplayName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_names_are_kept_as_given() {
        assert_eq!(
            DisplayName::parse("  Nguyễn Văn Đức ", "n")
                .expect("valid")
                .as_str(),
            "Nguyễn Văn Đức"
        );
    }

    #[test]
    fn empty_long_and_control_names_are_refused() {
        assert_eq!(
            DisplayName::parse("  ", "n").expect_err("empty").code,
            "required"
        );
        assert_eq!(
            DisplayName::parse(&"a".repeat(121), "n")
                .expect_err("long")
                .code,
            "too_long"
        );
        assert_eq!(
            DisplayName::parse("a\u{0}b", "n").expect_err("ctl").code,
            "invalid_characters"
        );
    }
}
