//! Targets and funding (plan §III): targets per indicator for the commune and each village, the
//! progress against them with the gap in people and the villages furthest behind; sponsorships and
//! contributions received and money spent, in whole đồng, with totals per period.

mod city;
mod funding;
mod targets;
mod versions;

use crate::auth::AuthUser;
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(targets::set_targets)
        .service(targets::progress)
        .service(funding::list_funding)
        .service(funding::add_funding)
        .service(funding::void_funding)
        .service(city::submit_report)
        .service(city::acknowledge_report)
        .service(city::list_submissions)
        .service(city::compare_communes)
        .service(versions::create_plan)
        .service(versions::list_plans)
        .service(versions::get_plan)
        .service(versions::amend_plan);
}

/// The commune's plan keepers: the chairman and the culture-social office (an administrator for
/// any commune).
pub(super) fn require_planner(auth: &AuthUser) -> Result<(), ApiError> {
    if auth.may_keep_plan() {
        Ok(())
    } else {
        Err(crate::access::role_not_allowed(
            "The chairman and the culture-social office keep the plan's targets and funds.",
        ))
    }
}

/// The commune a planner writes to: their own, or the one an administrator names.
pub(super) fn planner_commune(
    conn: &mut DbConnection,
    auth: &AuthUser,
    named: Option<&str>,
) -> Result<String, ApiError> {
    let commune = match (auth.role, auth.commune_id.as_deref(), named) {
        (Role::Admin, _, Some(c)) => c.to_owned(),
        (Role::Admin, _, None) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "commune_id",
                "required",
                "which commune",
            )]))
        }
        (_, Some(own), Some(c)) if c != own => {
            return Err(ApiError::NotFound {
                code: "commune_not_found",
                detail: "No such commune.".into(),
            })
        }
        (_, Some(own), _) => own.to_owned(),
        (_, None, _) => {
            return Err(ApiError::Forbidden {
                code: "no_scope",
                detail: "No commune.".into(),
            })
        }
    };
    if !db::geo::commune_exists(conn, &commune)? {
        return Err(ApiError::NotFound {
            code: "commune_not_found",
            detail: "No such commune.".into(),
        });
    }
    Ok(commune)
}
