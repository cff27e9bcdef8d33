//! A server on a loopback port over a fresh database, seeded with the demo, for tests (and for
//! benchmarks). Both backends: see [`demarc_store::testing::urls`].

use std::net::SocketAddr;

use crate::{AppState, app, demo};

/// The password every seeded demo user has in tests.
pub const PASSWORD: &str = "demo password for tests";

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Starts a server on `db_url` (seeded with the demo) on an ephemeral port.
pub async fn start_on(
    label: &'static str,
    db_url: &str,
    dir: Option<tempfile::TempDir>,
) -> TestServer {
    let store = demarc_store::Store::connect(db_url)
        .await
        .expect("test database");
    let state = AppState::new(store, false);
    demo::seed(&state, PASSWORD).await.expect("demo seed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    TestServer {
        addr,
        state,
        label,
        _dir: dir,
    }
}

/// One seeded server per available backend: SQLite always, PostgreSQL when it answers.
pub async fn servers() -> Vec<TestServer> {
    let dir = tempfile::tempdir().expect("tempdir");
    let urls = demarc_store::testing::urls(dir.path()).await;
    let mut out = Vec::new();
    let mut dir = Some(dir);
    for (label, url) in urls {
        out.push(
            start_on(
                label,
                &url,
                if label == "sqlite" { dir.take() } else { None },
            )
            .await,
        );
    }
    out
}
