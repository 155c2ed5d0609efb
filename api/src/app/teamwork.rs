//! Teamwork: the difficulty inbox's threads, read by the inbox and by the phones' pull alike.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::teamwork as tw;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::paging;

#[derive(Serialize, ToSchema)]
pub struct ReplyResponse {
    pub id: String,
    pub author_id: String,
    /// The author's display name.
    pub author_name: String,
    /// `office` or `team`.
    pub side: String,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The thread of each difficulty, with the authors' names.
pub fn threads(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<ReplyResponse>>, ApiError> {
    let replies = tw::replies_of(conn, ids)?;
    let authors: Vec<String> = replies.iter().map(|r| r.author_id.clone()).collect();
    let names: HashMap<String, String> = db::users::display_names(conn, &authors)?
        .into_iter()
        .collect();
    let mut out: HashMap<String, Vec<ReplyResponse>> = HashMap::new();
    for r in replies {
        out.entry(r.difficulty_id).or_default().push(ReplyResponse {
            author_name: names.get(&r.author_id).cloned().unwrap_or_default(),
            created_at: paging::utc(r.created_at),
            id: r.id,
            author_id: r.author_id,
            side: r.side,
            body: r.body,
        });
    }
    Ok(out)
}
