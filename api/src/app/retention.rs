//! Retention: what the commune keeps and for how long. Run daily by the server and on demand by
//! `tungnha purge`.

use diesel::prelude::*;

use crate::db::registry as reg;
use crate::db::schema::{adoptions, assistance_items, assistance_records};
use crate::db::{self, DbConnection};

/// What a retention purge removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Records of help whose notes (or whose items' notes) were removed.
    pub records: usize,
    pub adoptions: usize,
    pub communications: usize,
}

/// The first moment that is still kept when `years` of data are kept (0 keeps everything).
pub fn retention_cutoff(years: u32, now: chrono::NaiveDateTime) -> Option<chrono::NaiveDateTime> {
    (years > 0).then(|| {
        now.checked_sub_months(chrono::Months::new(12 * years))
            .unwrap_or(chrono::NaiveDateTime::MIN)
    })
}

/// Removes the free text (where people's details end up: notes on records of help, their items,
/// adoption entries and communications) from everything that happened before `before`. Counts and
/// statuses stay, so the figures do not change. Phones pull the cleaned records. Audited.
pub fn purge_expired(
    conn: &mut DbConnection,
    before: chrono::NaiveDateTime,
) -> diesel::QueryResult<Purged> {
    use crate::db::schema::communications;
    db::write_tx(conn, |conn| {
        let old = assistance_records::table.filter(assistance_records::occurred_at.lt(before));
        let mut ids: Vec<String> = old
            .filter(assistance_records::notes.is_not_null())
            .select(assistance_records::id)
            .load(conn)?;
        let old_ids = old.select(assistance_records::id);
        let with_item_notes: Vec<String> = assistance_items::table
            .filter(assistance_items::note.is_not_null())
            .filter(assistance_items::record_id.eq_any(old_ids))
            .select(assistance_items::record_id)
            .distinct()
            .load(conn)?;
        ids.extend(with_item_notes);
        ids.sort();
        ids.dedup();
        let mut purged = Purged::default();
        for chunk in ids.chunks(500) {
            diesel::update(assistance_records::table.filter(assistance_records::id.eq_any(chunk)))
                .set(assistance_records::notes.eq(None::<String>))
                .execute(conn)?;
            diesel::update(
                assistance_items::table.filter(assistance_items::record_id.eq_any(chunk)),
            )
            .set(assistance_items::note.eq(None::<String>))
            .execute(conn)?;
            let owners: Vec<(String, String, String, String)> = assistance_records::table
                .filter(assistance_records::id.eq_any(chunk))
                .select((
                    assistance_records::id,
                    assistance_records::commune_id,
                    assistance_records::village_id,
                    assistance_records::author_id,
                ))
                .load(conn)?;
            for (id, commune, village, author) in &owners {
                reg::record_change_by(
                    conn,
                    "assistance_record",
                    id,
                    Some(commune),
                    Some(village),
                    "upsert",
                    Some(author),
                )?;
            }
        }
        purged.records = ids.len();
        let adoption_rows: Vec<(String, String, String)> = adoptions::table
            .filter(adoptions::note.is_not_null())
            .filter(adoptions::status_on.lt(before.date()))
            .select((adoptions::id, adoptions::commune_id, adoptions::village_id))
            .load(conn)?;
        for (id, commune, village) in &adoption_rows {
            diesel::update(adoptions::table.find(id))
                .set(adoptions::note.eq(None::<String>))
                .execute(conn)?;
            reg::record_change(conn, "adoption", id, Some(commune), Some(village), "upsert")?;
        }
        purged.adoptions = adoption_rows.len();
        let talks: Vec<(String, String, Option<String>, String)> = communications::table
            .filter(communications::notes.is_not_null())
            .filter(communications::occurred_at.lt(before))
            .select((
                communications::id,
                communications::commune_id,
                communications::village_id,
                communications::author_id,
            ))
            .load(conn)?;
        for (id, commune, village, author) in &talks {
            diesel::update(communications::table.find(id))
                .set(communications::notes.eq(None::<String>))
                .execute(conn)?;
            reg::record_change_by(
                conn,
                "communication",
                id,
                Some(commune),
                village.as_deref(),
                "upsert",
                Some(author),
            )?;
        }
        purged.communications = talks.len();
        if purged != Purged::default() {
            db::audit::record(
                conn,
                &db::audit::NewAuditEvent {
                    details: serde_json::json!({
                        "before": before.to_string(),
                        "records": purged.records,
                        "adoptions": purged.adoptions,
                        "communications": purged.communications,
                    })
                    .to_string(),
                    ..db::audit::NewAuditEvent::new("retention_purge", None, "system")
                },
            )?;
        }
        Ok(purged)
    })
}
