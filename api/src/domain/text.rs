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

/// A short identifier chosen by people (commune code, village code, service code): 1–40 characters of
/// letters, digits, `.`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() || value.chars().count() > 40 {
            return Err(FieldError::new(
                field,
                "invalid_length",
                "a code has 1 to 40 characters",
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(FieldError::new(
                field,
                "invalid_characters",
                "a code uses letters a–z, digits, '.', '_' and '-'",
            ));
        }
        Ok(Code(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Optional free text such as an address part or a note: trimmed, empty becomes `None`, at most
/// `max` characters, no control characters except line breaks.
pub fn optional_text(
    raw: Option<&str>,
    field: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod code_tests {
    use super::*;

    #[test]
    fn codes_and_optional_texts_are_checked() {
        assert_eq!(Code::parse(" T01 ", "code").expect("valid").as_str(), "T01");
        assert_eq!(
            Code::parse("thôn 1", "code").expect_err("bad").code,
            "invalid_characters"
        );
        assert_eq!(optional_text(Some("  "), "lane", 10).expect("ok"), None);
        assert_eq!(
            optional_text(Some(" Ngõ 3 "), "lane", 10)
                .expect("ok")
                .as_deref(),
            Some("Ngõ 3")
        );
        assert_eq!(
            optional_text(Some("x".repeat(11).as_str()), "lane", 10)
                .expect_err("long")
                .code,
            "too_long"
        );
    }
}
