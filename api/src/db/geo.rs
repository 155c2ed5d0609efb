//! Communes and villages: the scope hierarchy.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{communes, villages};
use super::DbConnection;

#[derive(Debug, Insertable)]
#[diesel(table_name = communes)]
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
