//! `tungnha seed-demo`: the demo commune Mao Điền (Hải Phòng) with its villages, commune and village
//! teams, about 2,000 households with fictional residents, a starting adoption ledger, and one
//! account per role. Running it again changes nothing and prints the same accounts.

mod guides;
mod names;

use chrono::NaiveDate;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::db::registry::{self as reg, AdoptionEntry};
use crate::db::{self, geo, users, DbConnection};
use crate::domain::{Password, Sex};

pub const DEMO_COMMUNE_CODE: &str = "demo-mao-dien";
/// The password of every demo account (demo data only; never use it on a real deployment).
pub const DEMO_PASSWORD: &str = "TungNha@2026";

const VILLAGES: [(&str, &str); 6] = [
    ("T01", "Thôn Mao Điền"),
    ("T02", "Thôn Phú Lộc"),
    ("T03", "Thôn Hoàng Hanh"),
    ("T04", "Thôn Quảng Cư"),
    ("T05", "Thôn Bình Lãng"),
    ("T06", "Thôn Cẩm Khê"),
];
const HAMLETS: [&str; 4] = ["Xóm Đông", "Xóm Tây", "Xóm Giữa", "Xóm Bắc"];

/// One demo account: (username, role, department, display name, village index for village roles).
type DemoAccount = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<usize>,
);

const ACCOUNTS: [DemoAccount; 12] = [
    ("quantri", "admin", None, "Quản trị hệ thống", None),
    (
        "thanhpho",
        "city",
        None,
        "Sở Khoa học và Công nghệ thành phố",
        None,
    ),
    (
        "chutich",
        "chairman",
        None,
        "Chủ tịch UBND xã Mao Điền",
        None,
    ),
    (
        "congan",
        "department",
        Some("police"),
        "Công an xã Mao Điền",
        None,
    ),
    (
        "tramyte",
        "department",
        Some("health"),
        "Trạm Y tế xã Mao Điền",
        None,
    ),
    (
        "truonghoc",
        "department",
        Some("education"),
        "Trường Tiểu học Mao Điền",
        None,
    ),
    (
        "kinhte",
        "department",
        Some("economy"),
        "Phòng Kinh tế xã",
        None,
    ),
    (
        "vanhoaxahoi",
        "department",
        Some("culture_social"),
        "Phòng Văn hóa – Xã hội xã",
        None,
    ),
    (
        "hanhchinhcong",
        "department",
        Some("service_center"),
        "Trung tâm phục vụ hành chính công xã",
        None,
    ),
    (
        "doanthanhnien",
        "department",
        Some("youth_union"),
        "Đoàn Thanh niên xã",
        None,
    ),
    (
        "truongthon.phuloc",
        "village_leader",
        None,
        "Trưởng thôn Phú Lộc",
        Some(1),
    ),
    (
        "tinhnguyen.phuloc",
        "volunteer",
        None,
        "Tình nguyện viên thôn Phú Lộc",
        Some(1),
    ),
];

/// What a seeding run did, for the operator.
pub struct SeedReport {
    pub created: bool,
    pub commune_id: String,
    pub households: usize,
    pub residents: usize,
    /// (username, role, department)
    pub accounts: Vec<(String, String, Option<String>)>,
}

/// Seeds the demo commune with `households` households, unless it exists already.
pub fn seed_demo(conn: &mut DbConnection, households: usize) -> anyhow::Result<SeedReport> {
    let accounts = ACCOUNTS
        .iter()
        .map(|(u, r, d, _, _)| (u.to_string(), r.to_string(), d.map(str::to_owned)))
        .collect();
    if let Some(existing) = geo::list_communes(conn, None, None, 10_000)?
        .into_iter()
        .find(|c| c.code == DEMO_COMMUNE_CODE)
    {
        return Ok(SeedReport {
            created: false,
            commune_id: existing.id,
            households: 0,
            residents: 0,
            accounts,
        });
    }
    for (username, ..) in ACCOUNTS {
        anyhow::ensure!(
            users::find_by_username(conn, username)?.is_none(),
            "a user named `{username}` exists already; seed-demo runs only on a database without the demo accounts"
        );
    }
    let password_hash = crate::auth::password::hash(
        &Password::parse(DEMO_PASSWORD, "password").map_err(|e| anyhow::anyhow!(e.message))?,
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let (count_h, count_r) = db::write_tx(conn, |conn| -> anyhow::Result<(usize, usize)> {
        let now = db::now();
        let commune_id = db::new_id();
        geo::insert_commune(
            conn,
            &geo::NewCommune {
                id: &commune_id,
                code: DEMO_COMMUNE_CODE,
                name: "Mao Điền",
                province: "Hải Phòng",
                created_at: now,
                updated_at: now,
            },
        )?;
        let mut village_ids = vec![];
        for (code, name) in VILLAGES {
            let id = db::new_id();
            geo::insert_village(
                conn,
                &geo::NewVillage {
                    id: &id,
                    commune_id: &commune_id,
                    code,
                    name,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            village_ids.push(id);
        }
        let mut user_ids = vec![];
        for (username, role, department, display, village) in ACCOUNTS {
            let id = db::new_id();
            let commune = (role != "admin" && role != "city").then_some(commune_id.as_str());
            users::insert(
                conn,
                &users::NewUser {
                    id: &id,
                    username,
                    password_hash: &password_hash,
                    display_name: display,
                    role,
                    department,
                    commune_id: commune,
                    active: true,
                    must_change_password: false,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            if let Some(v) = village {
                users::set_villages(conn, &id, std::slice::from_ref(&village_ids[v]))?;
            }
            user_ids.push(id);
        }
        seed_teams(conn, &mut rng, &commune_id, &village_ids, &user_ids)?;
        guides::seed_guides(conn, &commune_id, &user_ids[0], now)?;
        let (h, r) = seed_households(
            conn,
            &mut rng,
            &commune_id,
            &village_ids,
            households,
            &user_ids[11],
        )?;
        db::audit::record(
            conn,
            &db::audit::NewAuditEvent {
                object_type: Some("commune"),
                object_id: Some(&commune_id),
                commune_id: Some(&commune_id),
                details: serde_json::json!({"households": h, "residents": r}).to_string(),
                ..db::audit::NewAuditEvent::new("demo_seeded", None, "cli")
            },
        )?;
        Ok((h, r))
    })?;
    let commune_id = geo::list_communes(conn, None, None, 10_000)?
        .into_iter()
        .find(|c| c.code == DEMO_COMMUNE_CODE)
        .map(|c| c.id)
        .unwrap_or_default();
    Ok(SeedReport {
        created: true,
        commune_id,
        households: count_h,
        residents: count_r,
        accounts,
    })
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn seed_teams(
    conn: &mut DbConnection,
    rng: &mut ChaCha8Rng,
    commune_id: &str,
    villages: &[String],
    users: &[String],
) -> anyhow::Result<()> {
    let now = db::now();
    let start = date(2026, 10, 1);
    let team = db::new_id();
    reg::insert_team(
        conn,
        &reg::NewTeam {
            id: &team,
            commune_id,
            village_id: None,
            name: "Tổ Công nghệ số cộng đồng xã Mao Điền",
            decision_number: "112/QĐ-UBND",
            decision_date: date(2026, 9, 25),
            active: true,
            created_at: now,
            updated_at: now,
        },
    )?;
    let commune_members: [(&str, &str, &str, Option<usize>); 5] = [
        (
            "Chủ tịch UBND xã (tổ trưởng)",
            "leader",
            "official",
            Some(2),
        ),
        ("Trưởng Công an xã (tổ phó)", "deputy", "police", Some(3)),
        (
            "Chủ tịch UBMTTQ xã (tổ phó)",
            "deputy",
            "fatherland_front",
            None,
        ),
        ("Công chức Văn hóa – Xã hội", "member", "official", Some(7)),
        (
            "Bí thư Đoàn Thanh niên xã",
            "member",
            "youth_union",
            Some(9),
        ),
    ];
    for (name, position, origin, user) in commune_members {
        reg::insert_member(
            conn,
            &reg::NewTeamMember {
                id: &db::new_id(),
                team_id: &team,
                commune_id,
                full_name: name,
                position,
                origin,
                phone: None,
                user_id: user.map(|i| users[i].as_str()),
                active_from: start,
                active_until: None,
                created_at: now,
                updated_at: now,
            },
        )?;
    }
    for (i, (village, (_, vname))) in villages.iter().zip(VILLAGES).enumerate() {
        let team = db::new_id();
        let number = format!("{}/QĐ-UBND", 113 + i);
        let name = format!(
            "Tổ Công nghệ số cộng đồng {}",
            vname.replacen("Thôn", "thôn", 1)
        );
        reg::insert_team(
            conn,
            &reg::NewTeam {
                id: &team,
                commune_id,
                village_id: Some(village),
                name: &name,
                decision_number: &number,
                decision_date: date(2026, 9, 25),
                active: true,
                created_at: now,
                updated_at: now,
            },
        )?;
        let origins = [
            "youth_union",
            "womens_union",
            "teacher",
            "party_member",
            "volunteer",
        ];
        for k in 0..5 {
            let sex = names::random_sex(rng);
            let full = names::person(rng, sex, None);
            let (position, user) = match (i, k) {
                (1, 0) => ("leader", Some(users[10].as_str())),
                (1, 1) => ("member", Some(users[11].as_str())),
                (_, 0) => ("leader", None),
                _ => ("member", None),
            };
            reg::insert_member(
                conn,
                &reg::NewTeamMember {
                    id: &db::new_id(),
                    team_id: &team,
                    commune_id,
                    full_name: &full,
                    position,
                    origin: origins[k % origins.len()],
                    phone: None,
                    user_id: user,
                    active_from: start,
                    active_until: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
        }
    }
    Ok(())
}

struct DemoResident {
    name: String,
    birth_year: i32,
    sex: Sex,
    relation: &'static str,
}

/// A plausible family: a head, usually a spouse, children, sometimes an elderly parent.
fn family(rng: &mut ChaCha8Rng) -> Vec<DemoResident> {
    let head_sex = if rng.random_bool(0.7) {
        Sex::Male
    } else {
        Sex::Female
    };
    let head_year = rng.random_range(1945..2000);
    let head = names::person(rng, head_sex, None);
    let family_name = head.split(' ').next().unwrap_or("Nguyễn").to_owned();
    let mut people = vec![DemoResident {
        name: head,
        birth_year: head_year,
        sex: head_sex,
        relation: "Chủ hộ",
    }];
    if rng.random_bool(0.8) {
        let sex = if head_sex == Sex::Male {
            Sex::Female
        } else {
            Sex::Male
        };
        let relation = if sex == Sex::Female {
            "Vợ"
        } else {
            "Chồng"
        };
        people.push(DemoResident {
            name: names::person(rng, sex, None),
            birth_year: head_year + rng.random_range(-3..5),
            sex,
            relation,
        });
    }
    let children = rng.random_range(0..4);
    for _ in 0..children {
        let sex = names::random_sex(rng);
        let year = (head_year + rng.random_range(20..35)).min(2025);
        people.push(DemoResident {
            name: names::person(rng, sex, Some(&family_name)),
            birth_year: year,
            sex,
            relation: "Con",
        });
    }
    if head_year > 1970 && rng.random_bool(0.25) {
        let sex = names::random_sex(rng);
        let relation = if sex == Sex::Female { "Mẹ" } else { "Bố" };
        people.push(DemoResident {
            name: names::person(rng, sex, Some(&family_name)),
            birth_year: head_year - rng.random_range(22..32),
            sex,
            relation,
        });
    }
    people
}

fn seed_households(
    conn: &mut DbConnection,
    rng: &mut ChaCha8Rng,
    commune_id: &str,
    villages: &[String],
    total: usize,
    volunteer_id: &str,
) -> anyhow::Result<(usize, usize)> {
    let now = db::now();
    let today = date(2026, 11, 1);
    let mut residents_total = 0;
    for n in 0..total {
        let village = &villages[n % villages.len()];
        let hamlet = HAMLETS[rng.random_range(0..HAMLETS.len())];
        let lane = format!("Ngõ {}", rng.random_range(1..15));
        let number = format!("{}", rng.random_range(1..80));
        let people = family(rng);
        let (id, resident_ids) = reg::create_household(
            conn,
            &reg::HouseholdDraft {
                id: None,
                commune_id,
                village_id: village,
                hamlet: Some(hamlet),
                lane: Some(&lane),
                house_number: Some(&number),
                head_name: &people[0].name,
                phone: None,
                consent: Some((volunteer_id, now, "2026-10")),
                created_by: Some(volunteer_id),
                residents: people
                    .iter()
                    .map(|p| reg::ResidentDraft {
                        full_name: &p.name,
                        birth_year: Some(p.birth_year),
                        sex: Some(p.sex.as_str()),
                        phone: None,
                        relation_to_head: Some(p.relation),
                    })
                    .collect(),
            },
        )?;
        let Some(household) = reg::find_household(conn, &id)? else {
            continue;
        };
        for (p, rid) in people.iter().zip(&resident_ids) {
            residents_total += 1;
            // A starting ledger, as a commune would import from its earlier paper survey.
            let age = 2026 - p.birth_year;
            for (service, min_age, p_done) in [
                ("vneid_level2", 14, 0.62),
                ("payment_account", 15, 0.48),
                ("electronic_health_record", 0, 0.35),
            ] {
                if age < min_age {
                    continue;
                }
                let roll: f64 = rng.random_range(0.0..1.0);
                let status = if roll < p_done {
                    "done"
                } else if roll < p_done + 0.1 {
                    "assisted"
                } else {
                    continue;
                };
                reg::set_adoption(
                    conn,
                    &AdoptionEntry {
                        household: &household,
                        resident_id: Some(rid),
                        service_code: service,
                        status,
                        status_on: today,
                        set_by: None,
                        source: "import",
                        source_record_id: None,
                        note: None,
                    },
                )?;
            }
        }
    }
    Ok((total, residents_total))
}
