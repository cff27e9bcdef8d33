//! `demarc serve --demo`: the example estates in a demo organization, with one user per role,
//! so a new user sees a populated server at once. Idempotent: a second start finds them.

use demarc_store::{NewVersion, Role, StoreError};

use crate::state::AppState;

include!(concat!(env!("OUT_DIR"), "/examples.rs"));

/// The demo organization's slug.
pub const ORG: &str = "demo";

/// The demo users, their roles, and the estate a role is limited to.
pub const USERS: &[(&str, &str, Role, Option<&str>)] = &[
    ("admin@demo.example", "Demo Admin", Role::Admin, None),
    ("editor@demo.example", "Demo Editor", Role::Editor, None),
    ("auditor@demo.example", "Demo Auditor", Role::Auditor, None),
    (
        "client@demo.example",
        "Acme Client Viewer",
        Role::ClientViewer,
        Some("acme"),
    ),
];

/// The example estates as (slug, files).
#[allow(clippy::type_complexity)] // (path, content) pairs, as the store takes them
pub fn estates() -> Vec<(String, Vec<(String, Vec<u8>)>)> {
    let mut out: Vec<(String, Vec<(String, Vec<u8>)>)> = Vec::new();
    for (estate, path, content) in EXAMPLES {
        match out.last_mut() {
            Some((e, files)) if e == estate => files.push((path.to_string(), content.to_vec())),
            _ => out.push((
                estate.to_string(),
                vec![(path.to_string(), content.to_vec())],
            )),
        }
    }
    out
}

/// Creates what is missing of the demo: the organization, the estates (first version from the
/// examples) and the users with `password`.
pub async fn seed(state: &AppState, password: &str) -> Result<(), String> {
    let store = &state.store;
    let e = |e: StoreError| e.to_string();
    let org = match store.org_by_slug(ORG).await.map_err(e)? {
        Some(o) => o,
        None => store
            .create_org(ORG, "Demo MSSP", "demo")
            .await
            .map_err(e)?,
    };
    for (slug, files) in estates() {
        let row = match store.estate(&org.id, &slug).await.map_err(e)? {
            Some(r) => r,
            None => store
                .create_estate(&org.id, &slug, &slug, "demo")
                .await
                .map_err(e)?,
        };
        if row.head == 0 {
            match store
                .create_version(
                    &row,
                    0,
                    NewVersion {
                        author: "demo".into(),
                        message: format!("the `{slug}` example estate"),
                        kind: "demo".into(),
                        files,
                    },
                )
                .await
            {
                Ok(_) | Err(StoreError::Conflict { .. }) => {}
                Err(x) => return Err(x.to_string()),
            }
        }
    }
    for (email, name, role, estate) in USERS {
        let user = match store.user_by_email(email).await.map_err(e)? {
            Some(u) => u,
            None => store
                .create_user(email, name, password, false, "demo")
                .await
                .map_err(e)?,
        };
        let estate_id = match estate {
            Some(s) => Some(
                store
                    .estate(&org.id, s)
                    .await
                    .map_err(e)?
                    .ok_or_else(|| format!("the demo estate `{s}` is missing"))?
                    .id,
            ),
            None => None,
        };
        store
            .grant(&user.id, &org.id, estate_id.as_deref(), *role, "demo")
            .await
            .map_err(e)?;
    }
    Ok(())
}

/// Seeds the demo with the password in `DEMARC_DEMO_PASSWORD`, or a random one printed once.
pub async fn load(state: &AppState) -> Result<(), String> {
    let password = std::env::var("DEMARC_DEMO_PASSWORD").unwrap_or_else(|_| {
        let t = demarc_store::new_id();
        t[..20].to_string()
    });
    seed(state, &password).await?;
    eprintln!("demarc serve --demo: organization `{ORG}` with the example estates; sign in as");
    for (email, _, role, estate) in USERS {
        eprintln!(
            "  {email} ({}{}), password {password}",
            role.as_str(),
            estate.map(|e| format!(" of {e}")).unwrap_or_default()
        );
    }
    Ok(())
}
