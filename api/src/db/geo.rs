//! Communes and villages: the scope hierarchy.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{communes, villages};
use super::DbConnection;

#[derive(Debug, Insertable)]
#[diesel(table_name = communes)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewCommune<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub province: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = villages)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewVillage<'a> {
    pub id: &'a str,
    pub commune_id: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_commune(conn: &mut DbConnection, c: &NewCommune<'_>) -> QueryResult<()> {
    diesel::insert_into(communes::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_village(conn: &mut DbConnection, v: &NewVillage<'_>) -> QueryResult<()> {
    diesel::insert_into(villages::table)
        .values(v)
        .execute(conn)
        .map(|_| ())
}

pub fn commune_exists(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(communes::table.find(id))).get_result(conn)
}

/// The commune of each village id that exists (unknown ids are left out).
pub fn village_communes(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    villages::table
        .filter(villages::id.eq_any(ids))
        .select((villages::id, villages::commune_id))
        .load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = communes)]
pub struct Commune {
    pub id: String,
    pub code: String,
    pub name: String,
    pub province: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn list_communes(
    conn: &mut DbConnection,
    only: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Commune>> {
    let mut q = communes::table.select(Commune::as_select()).into_boxed();
    if let Some(id) = only {
        q = q.filter(communes::id.eq(id.to_owned()));
    }
    if let Some(a) = after {
        q = q.filter(communes::id.gt(a.to_owned()));
    }
    q.order(communes::id).limit(limit).load(conn)
}

pub fn find_commune(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Commune>> {
    communes::table
        .find(id)
        .select(Commune::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_commune(
    conn: &mut DbConnection,
    id: &str,
    name: Option<&str>,
    province: Option<&str>,
) -> QueryResult<usize> {
    let now = super::now();
    diesel::update(communes::table.find(id))
        .set((
            name.map(|n| communes::name.eq(n.to_owned())),
            province.map(|p| communes::province.eq(p.to_owned())),
            communes::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Villages, optionally of one commune and/or within an id set, after an id.
pub fn list_villages(
    conn: &mut DbConnection,
    commune_id: Option<&str>,
    within: Option<&[String]>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<super::registry::Village>> {
    let mut q = villages::table
        .select(super::registry::Village::as_select())
        .into_boxed();
    if let Some(c) = commune_id {
        q = q.filter(villages::commune_id.eq(c.to_owned()));
    }
    if let Some(v) = within {
        q = q.filter(villages::id.eq_any(v.to_vec()));
    }
    if let Some(a) = after {
        q = q.filter(villages::id.gt(a.to_owned()));
    }
    q.order(villages::id).limit(limit).load(conn)
}

pub fn update_village(
    conn: &mut DbConnection,
    id: &str,
    code: Option<&str>,
    name: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(villages::table.find(id))
        .set((
            code.map(|c| villages::code.eq(c.to_owned())),
            name.map(|n| villages::name.eq(n.to_owned())),
            villages::updated_at.eq(super::now()),
        ))
        .execute(conn)
}
