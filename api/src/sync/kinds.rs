//! What each record kind means: its data, its checks, and what applying it changes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;

use super::{PushRecord, Refusal};
use crate::app::registry::{
    self as hh, CreateHousehold, CreateResident, UpdateHousehold, UpdateResident,
};
use crate::auth::AuthUser;
use crate::db::registry as reg;
use crate::db::sync::{self as store, AssistanceItem, AssistanceRecord, Communication, Difficulty};
use crate::db::{self, DbConnection};
use crate::domain::codes::{Channel, CommunicationChannel, Outcome};
use crate::domain::{optional_text, Role, ServiceLevel};
use crate::error::{ApiError, FieldError};

/// How far a phone's clock may run ahead of the server's.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(10);

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest {
                code,
                detail,
                errors,
            }
            | ApiError::Unprocessable {
                code,
                detail,
                errors,
            } => Refusal::Rejected {
                code,
                message: detail,
                fields: errors,
            },
            ApiError::Forbidden { code, detail }
            | ApiError::NotFound { code, detail }
            | ApiError::Conflict { code, detail }
            | ApiError::Unauthorized { code, detail } => Refusal::Rejected {
                code,
                message: detail,
                fields: vec![],
            },
            other => Refusal::Db(diesel::result::Error::QueryBuilderError(
                other.to_string().into(),
            )),
        }
    }
}

pub(super) fn data<T: for<'de> Deserialize<'de>>(r: &PushRecord) -> Result<T, Refusal> {
    serde_json::from_value(r.data.clone()).map_err(|e| {
        Refusal::reject(
            "invalid_data",
            format!("The {} data does not have the expected shape: {e}", r.kind),
        )
    })
}

/// Applies one record; returns the version the server now has.
pub fn apply(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device: &str,
    id: &str,
    r: &PushRecord,
) -> Result<i64, Refusal> {
    use super::{RecordKind as K, RecordOp as O};
    let Some(kind) = r.kind() else {
        return Err(Refusal::reject(
            "unknown_kind",
            format!("`{}` is not a record kind.", r.kind),
        ));
    };
    match (kind, r.op()) {
        (K::AssistanceRecord, Some(O::Create)) => assistance_record(conn, auth, device, id, &data(r)?).map(|_| 1),
        (K::Communication, Some(O::Create)) => communication(conn, auth, device, id, &data(r)?).map(|_| 1),
        (K::Difficulty, Some(O::Create)) => difficulty(conn, auth, device, id, &data(r)?).map(|_| 1),
        (K::Household, Some(O::Create)) => Ok(hh::create_household_in(conn, auth, Some(id), &data::<CreateHousehold>(r)?)?.version),
        (K::Household, Some(O::Update)) => {
            let base = base_version(r)?;
            let edit: UpdateHousehold = data(r)?;
            match hh::update_household_in(conn, auth, id, base, &edit) {
                Err(ApiError::PreconditionFailed { .. }) => Err(stale_household(conn, auth, id)?),
                other => Ok(other?.version),
            }
        }
        (K::Household, Some(O::Delete)) => match hh::delete_household_in(conn, auth, id, r.base_version) {
            Err(ApiError::PreconditionFailed { .. }) => Err(stale_household(conn, auth, id)?),
            other => other.map(|_| 0).map_err(Refusal::from),
        },
        (K::Resident, Some(O::Create)) => {
            let d: ResidentData = data(r)?;
            Ok(hh::create_resident_in(conn, auth, &d.household_id, Some(id), &d.resident)?.version)
        }
        (K::Resident, Some(O::Update)) => {
            let base = base_version(r)?;
            let edit: UpdateResident = data(r)?;
            match hh::update_resident_in(conn, auth, id, base, &edit) {
                Err(ApiError::PreconditionFailed { .. }) => Err(stale_resident(conn, auth, id)?),
                other => Ok(other?.version),
            }
        }
        (K::Resident, Some(O::Delete)) => match hh::delete_resident_in(conn, auth, id, r.base_version) {
            Err(ApiError::PreconditionFailed { .. }) => Err(stale_resident(conn, auth, id)?),
            other => other.map(|_| 0).map_err(Refusal::from),
        },
        (K::AssistanceRecord | K::Communication | K::Difficulty, _) => {
            Err(Refusal::reject("unsupported_op", "Field records are only created; a correction is a new record that supersedes the old one."))
        }
        (K::Household | K::Resident, _) => Err(Refusal::reject("unsupported_op", "Use create, update or delete.")),
    }
}

fn base_version(r: &PushRecord) -> Result<i64, Refusal> {
    r.base_version.ok_or_else(|| {
        Refusal::reject(
            "base_version_required",
            "An edit must say which version it was made on.",
        )
    })
}

fn stale_household(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Refusal, Refusal> {
    let h =
        reg::find_household(conn, id)?.filter(|h| auth.can_read_in(&h.commune_id, &h.village_id));
    let Some(h) = h else {
        return Ok(Refusal::reject("household_not_found", "No such household."));
    };
    let server = serde_json::json!({
        "id": h.id, "village_id": h.village_id, "hamlet": h.hamlet, "lane": h.lane, "house_number": h.house_number,
        "head_name": h.head_name, "phone": h.phone, "version": h.version,
    });
    Ok(Refusal::Stale {
        server_version: h.version,
        server,
    })
}

fn stale_resident(conn: &mut DbConnection, auth: &AuthUser, id: &str) -> Result<Refusal, Refusal> {
    let r =
        reg::find_resident(conn, id)?.filter(|r| auth.can_read_in(&r.commune_id, &r.village_id));
    let Some(r) = r else {
        return Ok(Refusal::reject("resident_not_found", "No such resident."));
    };
    let server = serde_json::json!({
        "id": r.id, "household_id": r.household_id, "full_name": r.full_name, "birth_year": r.birth_year,
        "sex": r.sex, "phone": r.phone, "relation_to_head": r.relation_to_head, "version": r.version,
    });
    Ok(Refusal::Stale {
        server_version: r.version,
        server,
    })
}

/// Keeps a stale edit for review by the village leader.
pub fn record_conflict(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device: &str,
    id: &str,
    r: &PushRecord,
    server_version: i64,
    server: &serde_json::Value,
) -> Result<(), ApiError> {
    let (commune, village) = match r.kind.as_str() {
        "household" => reg::find_household(conn, id)?.map(|h| (h.commune_id, h.village_id)),
        _ => reg::find_resident(conn, id)?.map(|x| (x.commune_id, x.village_id)),
    }
    .unwrap_or_default();
    store::insert_conflict(
        conn,
        &store::Conflict {
            id: db::new_id(),
            kind: r.kind.clone(),
            object_id: id.to_owned(),
            commune_id: commune.clone(),
            village_id: village,
            user_id: auth.id.clone(),
            device_id: device.to_owned(),
            base_version: r.base_version.unwrap_or(0),
            server_version,
            client_data: serde_json::json!({"op": r.op, "data": r.data}).to_string(),
            server_data: server.to_string(),
            status: "open".into(),
            resolution: None,
            resolved_by: None,
            created_at: db::now(),
            resolved_at: None,
        },
    )?;
    db::audit::by_user(
        conn,
        auth,
        "sync_conflict",
        &r.kind,
        id,
        Some(&commune),
        serde_json::json!({"base_version": r.base_version, "server_version": server_version}),
    )?;
    Ok(())
}

/// Whether the object of this kind that already holds `id` is one the caller may read: then a create
/// with that id is told `already_exists`; otherwise it is answered as any other id in use.
pub fn holder_is_visible(
    conn: &mut DbConnection,
    auth: &AuthUser,
    kind: Option<super::RecordKind>,
    id: &str,
) -> diesel::QueryResult<bool> {
    use super::RecordKind as K;
    let ids = [id.to_owned()];
    let place: Option<(String, Option<String>)> = match kind {
        Some(K::AssistanceRecord) => {
            store::find_record(conn, id)?.map(|r| (r.commune_id, Some(r.village_id)))
        }
        Some(K::Communication) => {
            store::find_communication(conn, id)?.map(|c| (c.commune_id, c.village_id))
        }
        Some(K::Difficulty) => store::difficulties_by_ids(conn, &ids)?
            .pop()
            .map(|d| (d.commune_id, d.village_id)),
        Some(K::Household) => reg::households_by_ids(conn, &ids)?
            .pop()
            .map(|h| (h.commune_id, Some(h.village_id))),
        Some(K::Resident) => match reg::residents_by_ids(conn, &ids)?.pop() {
            Some(r) => reg::households_by_ids(conn, &[r.household_id])?
                .pop()
                .map(|h| (h.commune_id, Some(h.village_id))),
            None => None,
        },
        None => None,
    };
    Ok(match place {
        Some((commune, Some(village))) => auth.can_read_in(&commune, &village),
        Some((commune, None)) => {
            auth.role == Role::Admin || auth.commune_id.as_deref() == Some(commune.as_str())
        }
        None => false,
    })
}

/// A resident created offline: the household plus the resident's fields. Read in two steps, since
/// `flatten` would hand the resident only the fields it knows and drop the rest silently: an
/// unknown field is refused here as in every other kind.
#[derive(Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
struct ResidentData {
    household_id: String,
    resident: CreateResident,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for ResidentData {
    type Error = String;

    fn try_from(mut m: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let household_id = match m.remove("household_id") {
            Some(serde_json::Value::String(h)) => h,
            Some(_) => return Err("household_id: expected a string".into()),
            None => return Err("missing field `household_id`".into()),
        };
        let resident =
            serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| e.to_string())?;
        Ok(ResidentData {
            household_id,
            resident,
        })
    }
}

// ---------------------------------------------------------------- assistance records

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistanceData {
    pub household_id: String,
    #[serde(default)]
    pub resident_ids: Vec<String>,
    pub occurred_at: DateTime<Utc>,
    pub channel: String,
    pub items: Vec<ItemData>,
    pub notes: Option<String>,
    pub follow_up_on: Option<NaiveDate>,
    pub supersedes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemData {
    pub service_code: String,
    pub outcome: String,
    pub note: Option<String>,
}

/// The local date (Asia/Ho_Chi_Minh, UTC+7 all year) of a UTC time.
pub fn local_date(t: chrono::NaiveDateTime) -> NaiveDate {
    (t + TimeDelta::hours(7)).date()
}

fn check_time(t: DateTime<Utc>, field: &str, errors: &mut Vec<FieldError>) {
    let now = Utc::now();
    if t > now + CLOCK_SKEW {
        errors.push(FieldError::new(
            field,
            "in_the_future",
            "the time is later than now",
        ));
    }
    if t < DateTime::<Utc>::from_naive_utc_and_offset(
        NaiveDate::from_ymd_opt(2020, 1, 1)
            .unwrap_or_default()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
        Utc,
    ) {
        errors.push(FieldError::new(field, "too_old", "the time is before 2020"));
    }
}

/// What the checks of an assistance record read: its household, the household's living residents and
/// the catalogue. A push of many visits fills it once for the whole batch ([`VisitLookups::prefetch`]);
/// a single record reads each thing when asked. Only valid while nothing in the batch has changed the
/// registry (the batch path holds visits only).
#[derive(Default)]
pub struct VisitLookups {
    households: HashMap<String, Option<reg::Household>>,
    living: HashMap<String, HashSet<String>>,
    services: Option<HashMap<String, reg::Service>>,
}

impl VisitLookups {
    /// Reads the named households (living ones), their living residents and the whole catalogue
    /// with three statements.
    pub fn prefetch(
        conn: &mut DbConnection,
        household_ids: &[String],
    ) -> diesel::QueryResult<Self> {
        let mut ids = household_ids.to_vec();
        ids.sort();
        ids.dedup();
        let mut households: HashMap<String, Option<reg::Household>> =
            ids.iter().map(|id| (id.clone(), None)).collect();
        let mut living: HashMap<String, HashSet<String>> = HashMap::new();
        // The ids are the phone's; at most MAX_BATCH of them, well under either backend's bind limit.
        for h in reg::households_by_ids(conn, &ids)? {
            if h.deleted_at.is_none() {
                living.insert(h.id.clone(), HashSet::new());
                households.insert(h.id.clone(), Some(h));
            }
        }
        let found: Vec<String> = living.keys().cloned().collect();
        for r in reg::residents_of(conn, &found)? {
            living.entry(r.household_id).or_default().insert(r.id);
        }
        let services = reg::list_services(conn, true)?
            .into_iter()
            .map(|s| (s.code.clone(), s))
            .collect();
        Ok(VisitLookups {
            households,
            living,
            services: Some(services),
        })
    }

    fn household(
        &mut self,
        conn: &mut DbConnection,
        id: &str,
    ) -> diesel::QueryResult<Option<reg::Household>> {
        if let Some(h) = self.households.get(id) {
            return Ok(h.clone());
        }
        let h = reg::find_household(conn, id)?;
        self.households.insert(id.to_owned(), h.clone());
        Ok(h)
    }

    fn living(
        &mut self,
        conn: &mut DbConnection,
        household_id: &str,
    ) -> diesel::QueryResult<&HashSet<String>> {
        if !self.living.contains_key(household_id) {
            let ids = reg::residents_of_household(conn, household_id)?
                .into_iter()
                .map(|r| r.id)
                .collect();
            self.living.insert(household_id.to_owned(), ids);
        }
        Ok(&self.living[household_id])
    }

    fn service(
        &mut self,
        conn: &mut DbConnection,
        code: &str,
    ) -> diesel::QueryResult<Option<reg::Service>> {
        match &self.services {
            Some(all) => Ok(all.get(code).cloned()),
            None => reg::find_service_by_code(conn, code),
        }
    }
}

/// An assistance record that passed its checks, ready to write.
pub struct CheckedVisit {
    pub household: reg::Household,
    pub record: AssistanceRecord,
    pub items: Vec<AssistanceItem>,
    /// The residents helped, sorted, each once.
    pub residents: Vec<String>,
    /// The service of each item, in item order.
    pub services: Vec<reg::Service>,
    pub outcomes: Vec<String>,
    superseded: Option<AssistanceRecord>,
}

impl CheckedVisit {
    /// True when the record corrects an earlier one.
    pub fn supersedes(&self) -> bool {
        self.superseded.is_some()
    }
}

/// Applies an assistance record; returns it.
pub fn assistance_record(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device: &str,
    id: &str,
    d: &AssistanceData,
) -> Result<AssistanceRecord, Refusal> {
    let visit = check_visit(conn, &mut VisitLookups::default(), auth, device, id, d)?;
    insert_visits(conn, std::slice::from_ref(&visit))?;
    apply_visit(conn, &visit)?;
    if visit.record.channel == Channel::HouseVisit.as_str()
        && visit
            .household
            .last_visited_at
            .is_none_or(|v| v < visit.record.occurred_at)
    {
        reg::set_last_visited(conn, &visit.household, visit.record.occurred_at)?;
    }
    reg::record_change_by(
        conn,
        "assistance_record",
        id,
        Some(&visit.record.commune_id),
        Some(&visit.record.village_id),
        "upsert",
        Some(&auth.id),
    )?;
    Ok(visit.record)
}

/// The checks of an assistance record, writing nothing.
pub fn check_visit(
    conn: &mut DbConnection,
    lookups: &mut VisitLookups,
    auth: &AuthUser,
    device: &str,
    id: &str,
    d: &AssistanceData,
) -> Result<CheckedVisit, Refusal> {
    let household = lookups
        .household(conn, &d.household_id)?
        .filter(|h| auth.can_read_in(&h.commune_id, &h.village_id))
        .ok_or_else(|| {
            Refusal::reject("household_not_found", "No such household in your villages.")
        })?;
    auth.ensure_registry_writer(&household.commune_id, &household.village_id)?;
    let mut errors = vec![];
    check_time(d.occurred_at, "occurred_at", &mut errors);
    if Channel::parse(&d.channel).is_none() {
        errors.push(FieldError::new(
            "channel",
            "unknown_channel",
            format!("one of {}", Channel::codes()),
        ));
    }
    let living = lookups.living(conn, &household.id)?;
    if d.resident_ids.len() > 30 {
        errors.push(FieldError::new(
            "resident_ids",
            "too_many",
            "at most 30 residents",
        ));
    }
    let mut residents = d.resident_ids.clone();
    residents.sort();
    residents.dedup();
    for (i, r) in d.resident_ids.iter().enumerate() {
        if !living.contains(r) {
            errors.push(FieldError::new(
                format!("resident_ids[{i}]"),
                "unknown_resident",
                "not a resident of this household",
            ));
        }
    }
    if d.items.is_empty() || d.items.len() > 20 {
        errors.push(FieldError::new(
            "items",
            "out_of_range",
            "1 to 20 services per record",
        ));
    }
    let mut services = vec![];
    let mut seen = HashSet::new();
    for (i, item) in d.items.iter().enumerate() {
        match lookups
            .service(conn, &item.service_code)?
            .filter(|s| s.retired_at.is_none())
        {
            None => errors.push(FieldError::new(
                format!("items[{i}].service_code"),
                "unknown_service",
                "no such service",
            )),
            Some(s) => {
                if ServiceLevel::from_db(&s.level) == ServiceLevel::Person && residents.is_empty() {
                    errors.push(FieldError::new(
                        "resident_ids",
                        "required",
                        format!("say whom `{}` was done for", s.code),
                    ));
                }
                services.push(s);
            }
        }
        if !seen.insert(item.service_code.clone()) {
            errors.push(FieldError::new(
                format!("items[{i}].service_code"),
                "repeated",
                "each service once per record",
            ));
        }
        if Outcome::parse(&item.outcome).is_none() {
            errors.push(FieldError::new(
                format!("items[{i}].outcome"),
                "unknown_outcome",
                format!("one of {}", Outcome::codes()),
            ));
        }
        if let Err(e) = optional_text(item.note.as_deref(), &format!("items[{i}].note"), 500) {
            errors.push(e);
        }
    }
    let notes = optional_text(d.notes.as_deref(), "notes", 2000)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let occurred = d.occurred_at.naive_utc();
    if let Some(f) = d.follow_up_on {
        let day = local_date(occurred);
        if f < day || f > day + TimeDelta::days(366) {
            errors.push(FieldError::new(
                "follow_up_on",
                "out_of_range",
                "within a year after the visit",
            ));
        }
    }
    let superseded = match &d.supersedes {
        None => None,
        // Only a record of this household (in the caller's scope, checked above) is told apart:
        // any other id answers as one that does not exist.
        Some(old) => match store::find_record(conn, old)? {
            Some(o) if o.household_id == household.id && o.superseded_by.is_none() => Some(o),
            Some(o) if o.household_id == household.id => {
                errors.push(FieldError::new(
                    "supersedes",
                    "already_superseded",
                    "that record was already corrected",
                ));
                None
            }
            _ => {
                errors.push(FieldError::new(
                    "supersedes",
                    "unknown_record",
                    "no such record of this household",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Refusal::invalid(errors));
    }
    let record = AssistanceRecord {
        id: id.to_owned(),
        commune_id: household.commune_id.clone(),
        village_id: household.village_id.clone(),
        household_id: household.id.clone(),
        author_id: auth.id.clone(),
        device_id: device.to_owned(),
        occurred_at: occurred,
        channel: d.channel.clone(),
        notes,
        follow_up_on: d.follow_up_on,
        supersedes: superseded.as_ref().map(|o| o.id.clone()),
        superseded_by: None,
        received_at: db::now(),
    };
    let items: Vec<AssistanceItem> = d
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| AssistanceItem {
            record_id: id.to_owned(),
            position: i as i32,
            service_code: item.service_code.clone(),
            outcome: item.outcome.clone(),
            note: item
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        })
        .collect();
    Ok(CheckedVisit {
        household,
        record,
        items,
        residents,
        services,
        outcomes: d.items.iter().map(|i| i.outcome.clone()).collect(),
        superseded,
    })
}

/// Inserts the rows of checked visits: records, items and the residents helped (one multi-row
/// statement each on a batch). The ledger is not touched; see [`apply_visit`].
pub fn insert_visits(conn: &mut DbConnection, visits: &[CheckedVisit]) -> Result<(), Refusal> {
    let records: Vec<&AssistanceRecord> = visits.iter().map(|v| &v.record).collect();
    let items: Vec<&AssistanceItem> = visits.iter().flat_map(|v| &v.items).collect();
    let helped: Vec<(&str, &str)> = visits
        .iter()
        .flat_map(|v| {
            v.residents
                .iter()
                .map(|r| (v.record.id.as_str(), r.as_str()))
        })
        .collect();
    store::insert_records(conn, &records, &items, &helped)?;
    Ok(())
}

/// What a stored visit changes besides its own rows: the superseded record and the adoption ledger.
pub fn apply_visit(conn: &mut DbConnection, visit: &CheckedVisit) -> Result<(), Refusal> {
    let (household, record, id) = (&visit.household, &visit.record, visit.record.id.as_str());
    let mut touched: Vec<String> = visit.items.iter().map(|i| i.service_code.clone()).collect();
    if let Some(old) = &visit.superseded {
        if store::mark_superseded(conn, &old.id, id)? != 1 {
            return Err(Refusal::reject(
                "already_superseded",
                "That record was corrected meanwhile.",
            ));
        }
        touched.extend(
            store::items_of(conn, std::slice::from_ref(&old.id))?
                .into_iter()
                .map(|i| i.service_code),
        );
        reg::record_change_by(
            conn,
            "assistance_record",
            &old.id,
            Some(&old.commune_id),
            Some(&old.village_id),
            "upsert",
            Some(&old.author_id),
        )?;
        touched.sort();
        touched.dedup();
        for code in touched {
            if let Some(service) = reg::find_service_by_code(conn, &code)? {
                super::adoption::recompute(conn, household, &service)?;
            }
        }
    } else {
        for (outcome, service) in visit.outcomes.iter().zip(&visit.services) {
            super::adoption::apply_record(
                conn,
                household,
                service,
                record,
                outcome,
                &visit.residents,
            )?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- communications and difficulties

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunicationData {
    pub village_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub channel: String,
    #[serde(default)]
    pub topics: Vec<String>,
    pub reach: i64,
    pub title: Option<String>,
    pub link: Option<String>,
    pub notes: Option<String>,
}

/// Where a communication or difficulty belongs: a village of the author, or the author's commune.
fn place(
    conn: &mut DbConnection,
    auth: &AuthUser,
    village_id: Option<&str>,
) -> Result<(String, Option<String>), Refusal> {
    if auth.role == Role::City {
        return Err(Refusal::reject(
            "role_not_allowed",
            "City oversight does not log field activity.",
        ));
    }
    match village_id {
        Some(v) => {
            let village = reg::find_village(conn, v)?
                .filter(|x| auth.can_read_in(&x.commune_id, &x.id))
                .ok_or_else(|| {
                    Refusal::invalid(vec![FieldError::new(
                        "village_id",
                        "unknown_village",
                        "no such village in your scope",
                    )])
                })?;
            Ok((village.commune_id, Some(village.id)))
        }
        None => auth.commune_id.clone().map(|c| (c, None)).ok_or_else(|| {
            Refusal::invalid(vec![FieldError::new(
                "village_id",
                "required",
                "say which village",
            )])
        }),
    }
}

pub fn communication(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device: &str,
    id: &str,
    d: &CommunicationData,
) -> Result<Communication, Refusal> {
    let (commune, village) = place(conn, auth, d.village_id.as_deref())?;
    let mut errors = vec![];
    check_time(d.occurred_at, "occurred_at", &mut errors);
    if CommunicationChannel::parse(&d.channel).is_none() {
        errors.push(FieldError::new(
            "channel",
            "unknown_channel",
            format!("one of {}", CommunicationChannel::codes()),
        ));
    }
    if !(0..=1_000_000).contains(&d.reach) {
        errors.push(FieldError::new(
            "reach",
            "out_of_range",
            "between 0 and 1,000,000 people",
        ));
    }
    let topics = reg::check_service_codes(conn, &d.topics, "topics", &mut errors)?;
    let title = optional_text(d.title.as_deref(), "title", 200)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let link = optional_text(d.link.as_deref(), "link", 500)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if link
        .as_deref()
        .is_some_and(|l| !(l.starts_with("https://") || l.starts_with("http://")))
    {
        errors.push(FieldError::new(
            "link",
            "invalid_link",
            "a link starts with https://",
        ));
    }
    let notes = optional_text(d.notes.as_deref(), "notes", 2000)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(Refusal::invalid(errors));
    }
    let c = Communication {
        id: id.to_owned(),
        commune_id: commune,
        village_id: village,
        author_id: auth.id.clone(),
        device_id: device.to_owned(),
        occurred_at: d.occurred_at.naive_utc(),
        channel: d.channel.clone(),
        topics,
        reach: d.reach as i32,
        title,
        link,
        notes,
        received_at: db::now(),
    };
    store::insert_communication(conn, &c)?;
    reg::record_change_by(
        conn,
        "communication",
        id,
        Some(&c.commune_id),
        c.village_id.as_deref(),
        "upsert",
        Some(&auth.id),
    )?;
    Ok(c)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DifficultyData {
    pub village_id: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub service_codes: Vec<String>,
}

pub fn difficulty(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device: &str,
    id: &str,
    d: &DifficultyData,
) -> Result<Difficulty, Refusal> {
    let (commune, village) = place(conn, auth, d.village_id.as_deref())?;
    let mut errors = vec![];
    check_time(d.raised_at, "raised_at", &mut errors);
    let title = optional_text(Some(&d.title), "title", 200)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if title.is_none() && errors.iter().all(|e| e.field != "title") {
        errors.push(FieldError::new(
            "title",
            "required",
            "say what the difficulty is",
        ));
    }
    let description = optional_text(Some(&d.description), "description", 4000)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if description.is_none() && errors.iter().all(|e| e.field != "description") {
        errors.push(FieldError::new(
            "description",
            "required",
            "describe the difficulty",
        ));
    }
    let services = reg::check_service_codes(conn, &d.service_codes, "service_codes", &mut errors)?;
    let (Some(title), Some(description), true) = (title, description, errors.is_empty()) else {
        return Err(Refusal::invalid(errors));
    };
    let now = db::now();
    let x = Difficulty {
        id: id.to_owned(),
        commune_id: commune,
        village_id: village,
        author_id: auth.id.clone(),
        device_id: device.to_owned(),
        raised_at: d.raised_at.naive_utc(),
        title,
        description,
        service_codes: services,
        status: "open".into(),
        assigned_department: None,
        received_at: now,
        updated_at: now,
        first_answered_at: None,
        closed_at: None,
        closed_by: None,
    };
    store::insert_difficulty(conn, &x)?;
    db::webhooks::enqueue(
        conn,
        "difficulty.opened",
        Some(&x.commune_id),
        serde_json::json!({
            "difficulty_id": x.id,
            "village_id": x.village_id,
            "title": x.title,
            "service_codes": d.service_codes,
            "raised_at": d.raised_at,
        }),
    )?;
    reg::record_change_by(
        conn,
        "difficulty",
        id,
        Some(&x.commune_id),
        x.village_id.as_deref(),
        "upsert",
        Some(&auth.id),
    )?;
    Ok(x)
}
