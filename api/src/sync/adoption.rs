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

use super::kinds::{local_date, CheckedVisit};
use crate::db::registry::{self as reg, Adoption, AdoptionEntry, Household, Service};
use crate::db::sync::{self as store, AssistanceRecord};
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

/// Folds one new, live record into the ledger without reading the household's other records. The
/// result equals [`recompute`] after the record, given that the ledger held `recompute`'s result
/// before it: a `done` stays with the earliest record that says done, anything else follows the
/// latest record, ordered by `(occurred_at, id)`. An entry set by hand (a correction or an import)
/// after the visit happened is kept; one set before it goes through [`recompute`]. (`recompute`
/// compares a hand-set entry with every record, which differs only for records dated after the
/// correction that were stored before it, which the clock-skew check keeps to minutes.)
pub fn apply_record(
    conn: &mut DbConnection,
    household: &Household,
    service: &Service,
    record: &AssistanceRecord,
    outcome: &str,
    residents: &[String],
) -> diesel::QueryResult<()> {
    let per_person = ServiceLevel::from_db(&service.level) == ServiceLevel::Person;
    let subjects: Vec<&str> = if per_person {
        residents.iter().map(String::as_str).collect()
    } else {
        vec![household.id.as_str()]
    };
    let existing = reg::adoptions_for(conn, &household.id, &service.code)?;
    let manual = |e: &&Adoption| e.source != "record" && subjects.contains(&e.subject_id.as_str());
    if existing
        .iter()
        .filter(manual)
        .any(|e| e.updated_at <= record.occurred_at)
    {
        // A record newer than a hand-set entry: the records decide again, all of them.
        return recompute(conn, household, service);
    }
    let status = match outcome {
        "done" => "done",
        "declined" => "declined",
        _ => "assisted",
    };
    let key = (record.occurred_at, record.id.as_str());
    // The records behind the subjects' current entries.
    let evidence_ids: Vec<String> = existing
        .iter()
        .filter(|e| subjects.contains(&e.subject_id.as_str()) && e.status != "unknown")
        .filter_map(|e| e.source_record_id.clone())
        .collect();
    // One lookup by key each (usually one or none): a cached statement, where `IN (…)` would be
    // compiled again for every record.
    let mut evidence: HashMap<String, AssistanceRecord> = HashMap::new();
    for id in evidence_ids {
        if let Some(r) = store::find_record(conn, &id)? {
            evidence.insert(id, r);
        }
    }
    for subject in subjects {
        let current = existing.iter().find(|e| e.subject_id == subject);
        if current.is_some_and(|c| c.source != "record") {
            // Set by hand after this visit happened: kept.
            continue;
        }
        let prev = current
            .filter(|c| c.status != "unknown")
            .and_then(|c| c.source_record_id.as_deref())
            .and_then(|id| evidence.get(id));
        let replace = match (current, prev) {
            (Some(c), Some(prev)) => {
                let newer = key > (prev.occurred_at, prev.id.as_str());
                if c.status == "done" {
                    status == "done" && !newer
                } else {
                    status == "done" || newer
                }
            }
            _ => true,
        };
        if replace {
            reg::set_adoption_known(
                conn,
                &AdoptionEntry {
                    household,
                    resident_id: per_person.then_some(subject),
                    service_code: &service.code,
                    status,
                    status_on: local_date(record.occurred_at),
                    set_by: Some(&record.author_id),
                    source: "record",
                    source_record_id: Some(&record.id),
                    note: None,
                },
                current.map(|c| (c.id.as_str(), c.status.as_str())),
            )?;
        }
    }
    Ok(())
}

/// [`apply_record`] for a batch of new, live visits at once, with the same result: one read of the
/// batch's households' entries and one of the records behind them, the visits folded in in batch
/// order in memory, then each entry that changed written once (new ones in multi-row inserts) with
/// one change-log entry. Returns `false` having written nothing when a visit meets an entry set by
/// hand before it happened (where [`apply_record`] recomputes from every record): the caller then
/// applies the batch record by record.
pub fn apply_visits(conn: &mut DbConnection, visits: &[CheckedVisit]) -> diesel::QueryResult<bool> {
    let mut households: Vec<String> = visits.iter().map(|v| v.household.id.clone()).collect();
    households.sort();
    households.dedup();
    let services: std::collections::HashSet<&str> = visits
        .iter()
        .flat_map(|v| v.services.iter().map(|s| s.code.as_str()))
        .collect();
    // What this batch changes, keyed by (subject, service).
    #[derive(PartialEq)]
    enum Write {
        Kept,
        Update,
        Insert,
    }
    let mut ledger: HashMap<(String, String), (Adoption, Write)> =
        reg::adoptions_of_households(conn, &households)?
            .into_iter()
            .filter(|a| services.contains(a.service_code.as_str()))
            .map(|a| {
                (
                    (a.subject_id.clone(), a.service_code.clone()),
                    (a, Write::Kept),
                )
            })
            .collect();
    // The records behind the entries, as (when, id): read once, then the batch's own as they land.
    let evidence_ids: Vec<String> = ledger
        .values()
        .filter(|(a, _)| a.source == "record" && a.status != "unknown")
        .filter_map(|(a, _)| a.source_record_id.clone())
        .collect();
    let mut evidence: HashMap<String, chrono::NaiveDateTime> = HashMap::new();
    for chunk in evidence_ids.chunks(crate::db::sync::BATCH_ROWS) {
        for r in store::records_by_ids(conn, chunk)? {
            evidence.insert(r.id, r.occurred_at);
        }
    }
    let now = crate::db::now();
    for visit in visits {
        let (household, record) = (&visit.household, &visit.record);
        for (outcome, service) in visit.outcomes.iter().zip(&visit.services) {
            let per_person = ServiceLevel::from_db(&service.level) == ServiceLevel::Person;
            let subjects: Vec<&str> = if per_person {
                visit.residents.iter().map(String::as_str).collect()
            } else {
                vec![household.id.as_str()]
            };
            let key_of = |s: &str| (s.to_owned(), service.code.clone());
            // Entries set by hand are never changed here, so the batch's first read decides.
            let hand_set_before = subjects.iter().any(|s| {
                ledger.get(&key_of(s)).is_some_and(|(e, _)| {
                    e.source != "record" && e.updated_at <= record.occurred_at
                })
            });
            if hand_set_before {
                return Ok(false);
            }
            let status = match outcome.as_str() {
                "done" => "done",
                "declined" => "declined",
                _ => "assisted",
            };
            let key = (record.occurred_at, record.id.as_str());
            for subject in subjects {
                let current = ledger.get(&key_of(subject)).map(|(e, _)| e);
                if current.is_some_and(|c| c.source != "record") {
                    // Set by hand after this visit happened: kept.
                    continue;
                }
                let prev = current
                    .filter(|c| c.status != "unknown")
                    .and_then(|c| c.source_record_id.as_deref())
                    .and_then(|id| evidence.get(id).map(|at| (*at, id)));
                let replace = match (current, prev) {
                    (Some(c), Some(prev)) => {
                        let newer = key > prev;
                        if c.status == "done" {
                            status == "done" && !newer
                        } else {
                            status == "done" || newer
                        }
                    }
                    _ => true,
                };
                if !replace {
                    continue;
                }
                let entry = Adoption {
                    id: current.map_or_else(crate::db::new_id, |c| c.id.clone()),
                    commune_id: household.commune_id.clone(),
                    village_id: household.village_id.clone(),
                    household_id: household.id.clone(),
                    resident_id: per_person.then(|| subject.to_owned()),
                    subject_id: subject.to_owned(),
                    service_code: service.code.clone(),
                    status: status.to_owned(),
                    status_on: local_date(record.occurred_at),
                    set_by: Some(record.author_id.clone()),
                    source: "record".to_owned(),
                    source_record_id: Some(record.id.clone()),
                    note: None,
                    updated_at: now,
                };
                let write = match ledger.get(&key_of(subject)) {
                    None | Some((_, Write::Insert)) => Write::Insert,
                    Some(_) => Write::Update,
                };
                evidence.insert(record.id.clone(), record.occurred_at);
                ledger.insert(key_of(subject), (entry, write));
            }
        }
    }
    let mut written: Vec<(&Adoption, bool)> = ledger
        .values()
        .filter(|(_, w)| *w != Write::Kept)
        .map(|(a, w)| (a, *w == Write::Insert))
        .collect();
    // One order for every writer, so two batches never lock the same rows in opposite orders.
    written.sort_by(|(a, _), (b, _)| {
        (&a.subject_id, &a.service_code).cmp(&(&b.subject_id, &b.service_code))
    });
    let new: Vec<&Adoption> = written
        .iter()
        .filter(|(_, n)| *n)
        .map(|(a, _)| *a)
        .collect();
    let changed: Vec<&Adoption> = written
        .iter()
        .filter(|(_, n)| !*n)
        .map(|(a, _)| *a)
        .collect();
    reg::write_adoptions(conn, &new, &changed)?;
    let logged: Vec<(&str, &str, &str, Option<&str>)> = written
        .iter()
        .map(|(a, _)| {
            (
                a.id.as_str(),
                a.commune_id.as_str(),
                a.village_id.as_str(),
                None,
            )
        })
        .collect();
    reg::record_changes_by(conn, "adoption", &logged)?;
    Ok(true)
}
