//! Cursor pagination: `?cursor=&limit=` → `{items, next_cursor}`. Cursors are opaque to clients.

use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// `next_cursor` of the previous page; omit for the first page.
    pub cursor: Option<String>,
    /// Items per page, 1–200 (default 50).
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::validation(vec![FieldError::new(
                "limit",
                "out_of_range",
                "limit is between 1 and 200",
            )])),
        }
    }

    /// The decoded cursor, if any.
    pub fn after(&self) -> Result<Option<String>, ApiError> {
        self.cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(decode)
            .transpose()
    }
}

pub fn encode(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// The answer to a cursor this server did not give.
pub fn invalid_cursor() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "cursor",
        "invalid_cursor",
        "the cursor is not one this server gave",
    )])
}

fn decode(cursor: &str) -> Result<String, ApiError> {
    let invalid = invalid_cursor;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

/// The cursor for the page after `items`, when the page is full.
pub fn next_cursor<T>(items: &[T], limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    if items.len() as i64 == limit {
        items.last().map(|last| encode(&key(last)))
    } else {
        None
    }
}

/// A stored naive-UTC time as the RFC 3339 UTC value the API speaks.
pub fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}
