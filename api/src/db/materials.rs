//! Guides (materials), their versions and attachments, and the guides a training used.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    attachment_contents, attachments, material_versions, materials, training_materials,
};
use super::DbConnection;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = materials)]
#[diesel(treat_none_as_default_value = false)]
pub struct Material {
    pub id: String,
    pub commune_id: Option<String>,
    pub department: String,
    pub status: String,
    pub latest_version: i32,
    pub published_version: Option<i32>,
    pub published_at: Option<NaiveDateTime>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = material_versions)]
#[diesel(treat_none_as_default_value = false)]
pub struct Version {
    pub material_id: String,
    pub version: i32,
    pub title: String,
    pub summary: String,
    pub body: String,
    /// JSON array of service codes.
    pub service_codes: String,
    /// JSON array of attachment ids.
    pub attachment_ids: String,
    pub author_id: String,
    pub created_at: NaiveDateTime,
}

impl Version {
    pub fn services(&self) -> Vec<String> {
        serde_json::from_str(&self.service_codes).unwrap_or_default()
    }

    pub fn attachments(&self) -> Vec<String> {
        serde_json::from_str(&self.attachment_ids).unwrap_or_default()
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
#[diesel(treat_none_as_default_value = false)]
pub struct Attachment {
    pub id: String,
    pub material_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, m: &Material, v: &Version) -> QueryResult<()> {
    diesel::insert_into(materials::table)
        .values(m)
        .execute(conn)?;
    insert_version(conn, v)
}

pub fn insert_version(conn: &mut DbConnection, v: &Version) -> QueryResult<()> {
    diesel::insert_into(material_versions::table)
        .values(v)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Material>> {
    materials::table
        .find(id)
        .select(Material::as_select())
        .get_result(conn)
        .optional()
}

pub fn by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Material>> {
    materials::table
        .filter(materials::id.eq_any(ids))
        .select(Material::as_select())
        .load(conn)
}

pub fn version(conn: &mut DbConnection, id: &str, version: i32) -> QueryResult<Option<Version>> {
    material_versions::table
        .find((id, version))
        .select(Version::as_select())
        .get_result(conn)
        .optional()
}

/// The given `(material, version)` pairs, in one query.
pub fn versions_of(conn: &mut DbConnection, wanted: &[(String, i32)]) -> QueryResult<Vec<Version>> {
    let ids: Vec<String> = wanted.iter().map(|(id, _)| id.clone()).collect();
    Ok(material_versions::table
        .filter(material_versions::material_id.eq_any(&ids))
        .select(Version::as_select())
        .load(conn)?
        .into_iter()
        .filter(|v| wanted.contains(&(v.material_id.clone(), v.version)))
        .collect())
}

pub fn history(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<Version>> {
    material_versions::table
        .filter(material_versions::material_id.eq(id))
        .order(material_versions::version.desc())
        .select(Version::as_select())
        .load(conn)
}

/// Moves `latest_version` from `expected` to `expected + 1`; 0 rows when someone edited meanwhile.
pub fn bump(
    conn: &mut DbConnection,
    id: &str,
    expected: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        materials::table
            .filter(materials::id.eq(id))
            .filter(materials::latest_version.eq(expected)),
    )
    .set((
        materials::latest_version.eq(expected + 1),
        materials::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn publish(
    conn: &mut DbConnection,
    id: &str,
    version: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(materials::table.find(id))
        .set((
            materials::status.eq("published"),
            materials::published_version.eq(Some(version)),
            materials::published_at.eq(Some(now)),
            materials::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn withdraw(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        materials::table
            .filter(materials::id.eq(id))
            .filter(materials::status.eq("published")),
    )
    .set((
        materials::status.eq("withdrawn"),
        materials::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Guides of a commune and the national ones (`commune` none: every guide), newest change first.
pub fn list(conn: &mut DbConnection, commune: Option<&str>) -> QueryResult<Vec<Material>> {
    let mut q = materials::table.select(Material::as_select()).into_boxed();
    if let Some(c) = commune {
        q = q.filter(
            materials::commune_id
                .eq(c.to_owned())
                .or(materials::commune_id.is_null()),
        );
    }
    q.order((materials::updated_at.desc(), materials::id))
        .load(conn)
}

/// An attachment's row and its bytes, together (call inside a transaction).
pub fn insert_attachment(
    conn: &mut DbConnection,
    a: &Attachment,
    content: &[u8],
) -> QueryResult<()> {
    diesel::insert_into(attachments::table)
        .values(a)
        .execute(conn)?;
    insert_attachment_content(conn, &a.id, content)
}

pub fn insert_attachment_content(
    conn: &mut DbConnection,
    id: &str,
    content: &[u8],
) -> QueryResult<()> {
    diesel::insert_into(attachment_contents::table)
        .values((
            attachment_contents::attachment_id.eq(id),
            attachment_contents::content.eq(content),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The bytes of an attachment (`None`: no content stored for it).
pub fn attachment_content(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Vec<u8>>> {
    attachment_contents::table
        .find(id)
        .select(attachment_contents::content)
        .get_result(conn)
        .optional()
}

/// Attachments whose bytes are not in the database yet (written as files by earlier versions).
pub fn attachments_without_content(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    attachments::table
        .left_join(
            attachment_contents::table.on(attachment_contents::attachment_id.eq(attachments::id)),
        )
        .filter(attachment_contents::attachment_id.is_null())
        .select(attachments::id)
        .order(attachments::id)
        .load(conn)
}

pub fn find_attachment(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Attachment>> {
    attachments::table
        .find(id)
        .select(Attachment::as_select())
        .get_result(conn)
        .optional()
}

pub fn attachments_by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::id.eq_any(ids))
        .select(Attachment::as_select())
        .load(conn)
}

pub fn attachments_of(conn: &mut DbConnection, material: &str) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::material_id.eq(material))
        .order(attachments::created_at)
        .select(Attachment::as_select())
        .load(conn)
}

pub fn set_training_materials(
    conn: &mut DbConnection,
    training: &str,
    ids: &[String],
) -> QueryResult<()> {
    diesel::delete(training_materials::table.filter(training_materials::training_id.eq(training)))
        .execute(conn)?;
    for id in ids {
        diesel::insert_into(training_materials::table)
            .values((
                training_materials::training_id.eq(training),
                training_materials::material_id.eq(id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// `(training id, material id)` for these trainings.
pub fn materials_of_trainings(
    conn: &mut DbConnection,
    trainings: &[String],
) -> QueryResult<Vec<(String, String)>> {
    training_materials::table
        .filter(training_materials::training_id.eq_any(trainings))
        .order((
            training_materials::training_id,
            training_materials::material_id,
        ))
        .select((
            training_materials::training_id,
            training_materials::material_id,
        ))
        .load(conn)
}
