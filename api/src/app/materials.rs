//! Guides (tài liệu): what a published version shows, for the guide screens and the phones' pull.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::materials as store;
use crate::db::materials::{Attachment, Version};
use crate::db::DbConnection;
use crate::error::ApiError;

#[derive(Serialize, ToSchema, Clone)]
pub struct AttachmentResponse {
    pub id: String,
    #[schema(example = "huong-dan-vneid.pdf")]
    pub file_name: String,
    /// Recognised from the content: `application/pdf`, `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content (hex); also the download's ETag.
    pub sha256: String,
    /// Where to download it (with the bearer token).
    #[schema(example = "/api/v1/attachments/0193…")]
    pub url: String,
}

pub fn attachment_response(a: &Attachment) -> AttachmentResponse {
    AttachmentResponse {
        url: format!("/api/v1/attachments/{}", a.id),
        id: a.id.clone(),
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size_bytes: a.size_bytes,
        sha256: a.sha256.clone(),
    }
}

/// The attachments a version shows, in its order.
pub fn shown_attachments(
    conn: &mut DbConnection,
    versions: &[&Version],
) -> Result<HashMap<String, AttachmentResponse>, ApiError> {
    let ids: Vec<String> = versions.iter().flat_map(|v| v.attachments()).collect();
    Ok(store::attachments_by_ids(conn, &ids)?
        .iter()
        .map(|a| (a.id.clone(), attachment_response(a)))
        .collect())
}

/// Copies attachments that earlier versions kept as files (`<data_dir>/attachments/<id>`) into the
/// database, once, after the migration that gave them a place there. A file whose hash differs
/// from its row, or a missing one, is reported and left out. Returns how many were copied.
pub fn import_attachment_files(
    conn: &mut DbConnection,
    data_dir: &std::path::Path,
) -> anyhow::Result<usize> {
    use sha2::Digest;
    let ids = store::attachments_without_content(conn)?;
    let mut copied = 0;
    for id in ids {
        let path = data_dir.join("attachments").join(&id);
        let Ok(bytes) = std::fs::read(&path) else {
            tracing::warn!(attachment = %id, path = %path.display(), "attachment file missing; it cannot be served");
            continue;
        };
        let Some(row) = store::find_attachment(conn, &id)? else {
            continue;
        };
        let hash: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if hash != row.sha256 {
            tracing::warn!(attachment = %id, path = %path.display(), "attachment file differs from its recorded hash; left out");
            continue;
        }
        store::insert_attachment_content(conn, &id, &bytes)?;
        copied += 1;
    }
    if copied > 0 {
        tracing::info!(
            copied,
            folder = %data_dir.join("attachments").display(),
            "copied attachment files into the database; the folder is no longer read and may be removed"
        );
    }
    Ok(copied)
}
