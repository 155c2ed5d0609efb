//! The adoption ledger follows the field records.
//!
//! For one household and one service, each subject's status is derived from the live (not
//! superseded) records that mention the service: `done` if any record says done (dated by the first),
//! otherwise the latest record's outcome (`assisted` and `needs_follow_up` both count as assisted,
//! `declined` as declined). A leader's correction or an import newer than every such record is kept.
//! When a superseding record removes the last evidence for a subject, its derived entry falls back to
//! `unknown`.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::kinds::local_date;
use crate::db::registry::{self as reg, AdoptionEntry, Household, Service};
use crate::db::sync as store;
use crate::db::DbConnection;
use crate::domain::ServiceLevel;

struct Derived {
    status: &'static str,
    on: NaiveDate,
    record_id: String,
    latest: chrono::NaiveDateTime,
}

pub fn recompute(
    conn: &mut DbConnection,
    household: &Household,
    service: &Service,
) -> diesel::QueryResult<()> {
    let live = store::live_outcomes(conn, &household.id, &service.code)?;
    let per_person = ServiceLevel::from_db(&service.level) == ServiceLevel::Person;
    let ids: Vec<String> = live.iter().map(|(r, _)| r.id.clone()).collect();
    let mut helped: HashMap<String, Vec<String>> = HashMap::new();
    if per_person {
        for (record, resident) in store::residents_of_records(conn, &ids)? {
            helped.entry(record).or_default().push(resident);
        }
    }
    // Records come ordered by when they happened.
    let mut derived: BTreeMap<String, Derived> = BTreeMap::new();
    for (record, outcome) in &live {
        let subjects = if per_person {
            helped.get(&record.id).cloned().unwrap_or_default()
        } else {
            vec![household.id.clone()]
        };
        for subject in subjects {
            let day = local_date(record.occurred_at);
            let entry = derived.entry(subject).or_insert(Derived {
                status: "unknown",
                on: day,
                record_id: record.id.clone(),
                latest: record.occurred_at,
            });
            entry.latest = entry.latest.max(record.occurred_at);
            if entry.status == "done" {
                continue;
            }
            entry.status = match outcome.as_str() {
                "done" => "done",
                "declined" => "declined",
                _ => "assisted",
            };
            entry.on = day;
            entry.record_id = record.id.clone();
        }
    }
    let existing = reg::adoptions_for(conn, &household.id, &service.code)?;
    // Subjects whose evidence disappeared (a superseded record) fall back to unknown.
    for e in &existing {
        if e.source == "record" && !derived.contains_key(&e.subject_id) && e.status != "unknown" {
            reg::set_adoption(
                conn,
                &AdoptionEntry {
                    household,
                    resident_id: e.resident_id.as_deref(),
                    service_code: &service.code,
                    status: "unknown",
                    status_on: e.status_on,
                    set_by: None,
                    source: "record",
                    source_record_id: None,
                    note: None,
                },
            )?;
        }
    }
    for (subject, d) in derived {
        let current = existing.iter().find(|e| e.subject_id == subject);
        if let Some(c) = current {
            let manual = c.source == "correction" || c.source == "import";
            if manual && c.updated_at > d.latest {
                continue;
            }
            if c.status == d.status && c.source_record_id.as_deref() == Some(d.record_id.as_str()) {
                continue;
            }
        }
        let resident_id = per_person.then_some(subject.as_str());
        let author = store::find_record(conn, &d.record_id)?.map(|r| r.author_id);
        reg::set_adoption(
            conn,
            &AdoptionEntry {
                household,
                resident_id,
                service_code: &service.code,
                status: d.status,
                status_on: d.on,
                set_by: author.as_deref(),
                source: "record",
                source_record_id: Some(&d.record_id),
                note: None,
            },
        )?;
    }
    Ok(())
}
