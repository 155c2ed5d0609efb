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
