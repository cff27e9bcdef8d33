//! Who may read or change what. Every estate route goes through [`estate`]: the organization
//! and estate are looked up by slug, and a caller with no role on the estate gets the same 404
//! as for an estate that does not exist, so one tenant cannot learn another's estate names.

use demarc_store::{EstateRow, Org, Role};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An estate the caller may read, with the caller's role on it.
#[derive(Debug, Clone)]
pub struct EstateAccess {
    pub org: Org,
    pub estate: EstateRow,
    pub role: Role,
}

impl EstateAccess {
    pub fn require_edit(&self, p: &Principal) -> ApiResult<()> {
        p.require_scope("write")?;
        if self.role.can_edit() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} cannot change estate `{}`",
                self.role.as_str(),
                self.estate.slug
            ))
            .help("ask an admin of the organization for the editor role"))
        }
    }

    pub fn require_sign_off(&self, p: &Principal) -> ApiResult<()> {
        p.require_scope("write")?;
        if self.role.can_sign_off() {
            Ok(())
        } else {
            Err(
                ApiError::forbidden(format!("a {} cannot sign off reviews", self.role.as_str()))
                    .help("reviews are signed off by an auditor or an admin"),
            )
        }
    }

    pub fn require_audit(&self, p: &Principal) -> ApiResult<()> {
        p.require_scope("read")?;
        if self.role.can_audit() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} cannot read the audit log",
                self.role.as_str()
            )))
        }
    }
}

fn no_estate(org: &str, estate: &str) -> ApiError {
    ApiError::not_found(format!("estate `{org}/{estate}` not found"))
        .help("list the estates you can see with GET /api/v1/orgs/{org}/estates")
}

pub async fn estate(
    state: &AppState,
    p: &Principal,
    org: &str,
    estate: &str,
) -> ApiResult<EstateAccess> {
    p.require_scope("read")?;
    if let Some(a) = state.lookups.estate(&p.user.id, org, estate) {
        return Ok(a);
    }
    let Some(o) = state.store.org_by_slug(org).await? else {
        return Err(no_estate(org, estate));
    };
    let Some(e) = state.store.estate(&o.id, estate).await? else {
        return Err(no_estate(org, estate));
    };
    let Some(role) = state.store.estate_role(&p.user, &e).await? else {
        return Err(no_estate(org, estate));
    };
    let a = EstateAccess {
        org: o,
        estate: e,
        role,
    };
    state.lookups.put_estate(&p.user.id, org, estate, a.clone());
    Ok(a)
}

/// The organization, when the caller holds an organization-wide role on it (client viewers
/// hold only estate roles and see only those estates).
pub async fn org(state: &AppState, p: &Principal, org: &str) -> ApiResult<(Org, Option<Role>)> {
    p.require_scope("read")?;
    let not_found = || ApiError::not_found(format!("organization `{org}` not found"));
    let o = state.store.org_by_slug(org).await?.ok_or_else(not_found)?;
    let role = state.store.org_role(&p.user, &o.id).await?;
    if role.is_some() {
        return Ok((o, role));
    }
    // A client viewer of one of its estates sees the organization, and only those estates.
    let any = state
        .store
        .memberships(&p.user.id)
        .await?
        .into_iter()
        .any(|m| m.org_id == o.id);
    if any { Ok((o, None)) } else { Err(not_found()) }
}

/// The estates of an organization the caller may read.
pub async fn visible_estates(
    state: &AppState,
    p: &Principal,
    org: &Org,
) -> ApiResult<Vec<(EstateRow, Role)>> {
    let mut out = Vec::new();
    for e in state.store.estates_of_org(&org.id).await? {
        if let Some(r) = state.store.estate_role(&p.user, &e).await? {
            out.push((e, r));
        }
    }
    Ok(out)
}
