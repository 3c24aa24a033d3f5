//! Shared helpers: an instance under test with its own database, and HTTP helpers that go
//! through the real router (`tower::ServiceExt::oneshot`).
#![allow(dead_code)]

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use culturecnous::{
    context::AppContext,
    db::{accounts::DbAccount, pool},
    federation::FederationConfig,
    service::accounts::{NewAccountInput, create_account},
    testing::TestDatabases,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const PASSWORD: &str = "un mot de passe solide";

pub struct TestApp {
    pub ctx: AppContext,
    pub federation: FederationConfig,
    pub router: Router,
}

/// A response read to the end.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// An instance on `http://localhost:8080` (nothing listens: requests go through the router).
    pub async fn new() -> TestApp {
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(adjust: impl FnOnce(&mut culturecnous::config::Config)) -> TestApp {
        let dbs = TestDatabases::get();
        let mut config = dbs.config(8080).await;
        adjust(&mut config);
        std::fs::create_dir_all(config.storage.data_dir.join("media")).expect("data dir");
        let pool = pool::build_pool(&config.database.url, 8).expect("pool");
        let ctx = AppContext::new(config, pool);
        culturecnous::service::actors::ensure_system_actors(&ctx)
            .await
            .expect("system actors");
        let federation = culturecnous::federation::build_config(&ctx)
            .await
            .expect("federation config");
        let router = culturecnous::app(ctx.clone(), federation.clone());
        TestApp {
            ctx,
            federation,
            router,
        }
    }

    pub async fn create_user(&self, username: &str, role: &str) -> DbAccount {
        create_account(
            &self.ctx,
            NewAccountInput {
                username: username.into(),
                email: format!("{username}@example.org"),
                password: PASSWORD.into(),
                kind: "individual".into(),
                role: role.into(),
                display_name: username.into(),
            },
        )
        .await
        .expect("create user")
    }

    /// Sends a request through the router and reads the whole body.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, accept: &str) -> TestResponse {
        self.send(
            Request::builder()
                .method(Method::GET)
                .uri(path)
                .header(header::ACCEPT, accept)
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    pub async fn get_html(&self, path: &str) -> TestResponse {
        self.get(path, "text/html,application/xhtml+xml").await
    }
}
