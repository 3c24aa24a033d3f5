//! Helpers shared by the test modules: API calls with a bearer token, a browser that keeps its
//! cookies, multipart bodies, and looks at what an action wrote or queued.
#![allow(dead_code)]

use crate::common::{PASSWORD, TestApp, TestResponse};
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Method, Request, StatusCode, header, request::Builder},
};
use chrono::Utc;
use culturecnous::db::{
    self,
    actors::{DbActor, NewActor},
    schema::{activities, deliveries, follows},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;
use std::{collections::BTreeMap, net::SocketAddr, sync::Mutex};

pub const AP: &str = "application/activity+json";

/// The instance under test's base URL (see `TestApp::new`).
pub const LOCAL: &str = "http://localhost:8080";

// ---------------------------------------------------------------------------------------------
// JSON API

/// A new API bearer token of `username`.
pub async fn token(app: &TestApp, username: &str) -> String {
    culturecnous::service::tokens::create_token(&app.ctx, username, "tests")
        .await
        .expect("token")
}

/// Sends an API request; `body` is (content type, bytes).
pub async fn call(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<(String, Vec<u8>)>,
) -> TestResponse {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, "application/json");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some((content_type, bytes)) => {
            builder = builder.header(header::CONTENT_TYPE, content_type);
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    app.send(builder.body(body).expect("request")).await
}

/// Sends an API request as `token`'s owner, with a JSON body if any.
pub async fn api(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<Value>,
) -> TestResponse {
    let body = body.map(|json| {
        (
            "application/json".to_string(),
            json.to_string().into_bytes(),
        )
    });
    call(app, method, uri, Some(token), body).await
}

/// POSTs `body` to `uri` and expects `201 Created`; returns the answer (`{id, url, ap_id}`).
pub async fn create(app: &TestApp, token: &str, uri: &str, body: Value) -> Value {
    let r = api(app, Method::POST, uri, token, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{uri}: {}", r.body);
    r.json()
}

/// The fields named by a problem+json answer's `errors`.
pub fn error_fields(r: &TestResponse) -> Vec<String> {
    r.json()["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// URLs and HTML

/// `s` encoded for a query string.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The path of a URL of the instance under test; panics on any other URL.
pub fn path_of(url: &str) -> String {
    url.strip_prefix(LOCAL)
        .unwrap_or_else(|| panic!("not local: {url}"))
        .to_string()
}

/// The page text with the apostrophe escapes undone, to compare with the wording.
pub fn unescape(html: &str) -> String {
    html.replace("&#39;", "'").replace("&#x27;", "'")
}

/// What must never survive sanitising of hostile HTML (tags, scripts, event handlers, URLs).
pub const UNSAFE_MARKUP: [&str; 8] = [
    "<script",
    "<style",
    "<iframe",
    "javascript:",
    "data:text",
    "onerror",
    "onclick",
    "<img",
];

/// The CSRF token of the first form of a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').expect("end of token");
    html[start..end].to_string()
}

// ---------------------------------------------------------------------------------------------
// Forms

/// One part of a multipart body.
pub enum Part<'a> {
    Text(&'a str, String),
    File {
        name: &'a str,
        file_name: &'a str,
        content_type: &'a str,
        bytes: Vec<u8>,
    },
}

impl<'a> Part<'a> {
    pub fn text(name: &'a str, value: impl Into<String>) -> Self {
        Part::Text(name, value.into())
    }

    /// A file part sent as `image/png`, whatever its bytes.
    pub fn png(name: &'a str, file_name: &'a str, bytes: Vec<u8>) -> Self {
        Part::File {
            name,
            file_name,
            content_type: "image/png",
            bytes,
        }
    }
}

/// A `multipart/form-data` body: (content type with its boundary, bytes).
pub fn multipart(parts: Vec<Part<'_>>) -> (String, Vec<u8>) {
    let boundary = "----culturecnous-test-boundary";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
            Part::File {
                name,
                file_name,
                content_type,
                bytes,
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(response: &TestResponse) -> Vec<String> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// A browser: keeps its cookies between requests, and can come from a given address.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: Mutex<BTreeMap<String, String>>,
    addr: Option<SocketAddr>,
    /// Sent with every request (e.g. `X-Forwarded-For` from a proxy).
    extra_headers: Vec<(String, String)>,
    /// The CSRF token of a session opened by [`Browser::with_session`] (empty otherwise);
    /// `submit_form` and `submit_multipart` add it.
    pub csrf: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: Mutex::new(BTreeMap::new()),
            addr: None,
            extra_headers: Vec::new(),
            csrf: String::new(),
        }
    }

    /// A browser whose requests come from `proxy_ip` carrying `X-Forwarded-For: forwarded_for`.
    pub fn behind_proxy(app: &'a TestApp, proxy_ip: &str, forwarded_for: &str) -> Self {
        let mut b = Self::from_ip(app, proxy_ip);
        b.extra_headers
            .push(("x-forwarded-for".into(), forwarded_for.into()));
        b
    }

    pub fn from_ip(app: &'a TestApp, ip: &str) -> Self {
        let mut b = Self::new(app);
        b.addr = Some(format!("{ip}:40000").parse().expect("addr"));
        b
    }

    /// A browser holding a session opened for `account` directly, without the login form.
    pub async fn with_session(app: &'a TestApp, account: &db::accounts::DbAccount) -> Self {
        let session = culturecnous::service::sessions::open(&app.ctx, account, "test")
            .await
            .expect("session");
        let b = Self::new(app);
        b.set_cookie("session", &session.token);
        Self {
            csrf: session.csrf_token,
            ..b
        }
    }

    /// A browser logged in as `username` (password [`PASSWORD`]) through the login form.
    pub async fn logged_in(app: &'a TestApp, username: &str) -> Self {
        let mut b = Self::new(app);
        let r = b.login(username, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // The session's CSRF token, for `submit_form`.
        b.csrf = b.csrf("/notifications").await;
        b
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.cookies.lock().expect("cookie jar")
    }

    /// The cookies this browser holds.
    pub fn cookies(&self) -> BTreeMap<String, String> {
        self.jar().clone()
    }

    /// Sets a cookie as if a server had (or replaces all of them, with `set_all_cookies`).
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar().insert(name.into(), value.into());
    }

    pub fn set_all_cookies(&self, cookies: BTreeMap<String, String>) {
        *self.jar() = cookies;
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        self.jar()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&self, builder: Builder, body: Body) -> TestResponse {
        let mut builder = builder.header(header::ACCEPT, "text/html,application/xhtml+xml");
        for (name, value) in &self.extra_headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let cookie = self.cookie_header();
        if !cookie.is_empty() {
            builder = builder.header(header::COOKIE, cookie);
        }
        let mut request = builder.body(body).expect("request");
        if let Some(addr) = self.addr {
            request.extensions_mut().insert(ConnectInfo(addr));
        }
        let response = self.app.send(request).await;
        let mut jar = self.jar();
        for value in set_cookies(&response) {
            let pair = value.split(';').next().unwrap_or("");
            let (name, val) = pair.split_once('=').expect("cookie pair");
            if value.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), val.to_string());
            }
        }
        drop(jar);
        response
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(
            Request::builder().method(Method::GET).uri(path),
            Body::empty(),
        )
        .await
    }

    /// POSTs a form as it is (a test of CSRF passes its own token, or none).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("urlencode");
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    /// POSTs a multipart form as it is.
    pub async fn post_multipart(&self, path: &str, parts: Vec<Part<'_>>) -> TestResponse {
        let (content_type, body) = multipart(parts);
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, content_type),
            Body::from(body),
        )
        .await
    }

    /// POSTs a form with the session's CSRF token first.
    pub async fn submit_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all).await
    }

    /// POSTs a multipart form with the session's CSRF token first.
    pub async fn submit_multipart(&self, path: &str, mut parts: Vec<Part<'_>>) -> TestResponse {
        parts.insert(0, Part::text("csrf_token", self.csrf.as_str()));
        self.post_multipart(path, parts).await
    }

    /// Opens `path` and returns the CSRF token of its forms.
    pub async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.body);
        csrf_in(&page.body)
    }

    pub async fn register(&self, username: &str, email: &str, password: &str) -> TestResponse {
        let token = self.csrf("/inscription").await;
        self.post_form(
            "/inscription",
            &[
                ("csrf_token", &token),
                ("kind", "individual"),
                ("display_name", "Compagnie du Soleil"),
                ("username", username),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn login(&self, login: &str, password: &str) -> TestResponse {
        let token = self.csrf("/connexion").await;
        self.post_form(
            "/connexion",
            &[
                ("csrf_token", &token),
                ("login", login),
                ("password", password),
            ],
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

/// How many rows `table` holds.
pub async fn rows_in(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(&mut conn)
        .await
        .expect("count")
        .n
}

/// The actor of the local member `username`.
pub async fn local_actor(app: &TestApp, username: &str) -> DbActor {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::actors::local_by_username(&mut conn, username)
        .await
        .expect("query")
        .expect("actor")
}

/// The post or announcement row `id`.
pub async fn post_row(app: &TestApp, id: i64) -> db::posts::DbPost {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::posts::by_id(&mut conn, id)
        .await
        .expect("query")
        .expect("post")
}

/// A remote actor living on `host` (no key used), with its own inbox and optionally the
/// shared `http://{host}/inbox`.
pub async fn remote_actor_row(
    app: &TestApp,
    host: &str,
    name: &str,
    shared_inbox: bool,
) -> DbActor {
    let now = Utc::now();
    let new = NewActor {
        ap_id: format!("http://{host}/users/{name}"),
        kind: "Person".into(),
        username: name.into(),
        domain: host.into(),
        local: false,
        name: name.into(),
        summary_html: String::new(),
        icon_url: None,
        url: None,
        inbox_url: format!("http://{host}/users/{name}/inbox"),
        shared_inbox_url: shared_inbox.then(|| format!("http://{host}/inbox")),
        outbox_url: None,
        followers_url: None,
        following_url: None,
        public_key_pem: "-----BEGIN PUBLIC KEY-----\nunused\n-----END PUBLIC KEY-----\n".into(),
        private_key_pem: None,
        manually_approves_followers: false,
        discoverable: true,
        published: now,
        last_refreshed_at: now,
    };
    let mut conn = app.ctx.conn().await.expect("conn");
    db::actors::insert(&mut conn, &new)
        .await
        .expect("remote actor")
}

/// Records that `follower` follows `followee`, in `state`.
pub async fn follow(app: &TestApp, follower: &DbActor, followee: &DbActor, state: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::insert_into(follows::table)
        .values((
            follows::follower_id.eq(follower.id),
            follows::followee_id.eq(followee.id),
            follows::state.eq(state),
            follows::activity_ap_id.eq(format!("{}#follow-{}", follower.ap_id, followee.id)),
        ))
        .execute(&mut conn)
        .await
        .expect("follow");
}

/// A remote actor on `host` with a shared inbox, following `followee`.
pub async fn remote_follower(app: &TestApp, host: &str, name: &str, followee: &DbActor) -> DbActor {
    let actor = remote_actor_row(app, host, name, true).await;
    follow(app, &actor, followee, "accepted").await;
    actor
}

/// The activities of `kind` queued, with the inboxes they go to (sorted).
pub async fn queued(app: &TestApp, kind: &str) -> Vec<(Value, Vec<String>)> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let rows: Vec<(i64, Value)> = activities::table
        .filter(activities::kind.eq(kind))
        .order(activities::id)
        .select((activities::id, activities::data))
        .load(&mut conn)
        .await
        .expect("activities");
    let mut out = Vec::new();
    for (id, data) in rows {
        let mut inboxes: Vec<String> = deliveries::table
            .filter(deliveries::activity_id.eq(id))
            .select(deliveries::inbox_url)
            .load(&mut conn)
            .await
            .expect("deliveries");
        inboxes.sort();
        out.push((data, inboxes));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Mail

/// The newest mail queued for `address`. Reads the queue row: what the
/// transport will send is built from it.
pub async fn latest_mail_to(app: &TestApp, address: &str) -> db::mails::DbMail {
    latest_mail_in(&app.ctx, address).await
}

/// [`latest_mail_to`] for an instance started another way (a real listener).
pub async fn latest_mail_in(
    ctx: &culturecnous::context::AppContext,
    address: &str,
) -> db::mails::DbMail {
    use culturecnous::db::schema::mails;
    let mut conn = ctx.conn().await.expect("conn");
    mails::table
        .filter(mails::to_address.eq(address))
        .order(mails::id.desc())
        .select(db::mails::DbMail::as_select())
        .first(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("no mail to {address}: {e}"))
}

/// How many mails were queued for `address`.
pub async fn mails_to(app: &TestApp, address: &str) -> i64 {
    use culturecnous::db::schema::mails;
    let mut conn = app.ctx.conn().await.expect("conn");
    mails::table
        .filter(mails::to_address.eq(address))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count mails")
}

/// The path of the first link in `text` under `prefix` (e.g. `/mot-de-passe/`), with its token.
pub fn link_in(text: &str, prefix: &str) -> String {
    let start = text
        .find(&format!("{LOCAL}{prefix}"))
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    url[LOCAL.len()..].to_string()
}

/// The plain-text part of the newest mail to `address` as it was received: the queue is sent
/// now (`mail::send_due`, the default file sink) and the `.eml` file carrying that mail's
/// Message-ID is read back from `<data_dir>/outbox-mail/`.
pub async fn received_text_to(ctx: &culturecnous::context::AppContext, address: &str) -> String {
    let queued = latest_mail_in(ctx, address).await;
    culturecnous::service::mail::send_due(ctx)
        .await
        .expect("send the queued mails");
    let dir = ctx.config.storage.data_dir.join("outbox-mail");
    use mailparse::MailHeaderMap;
    for entry in std::fs::read_dir(&dir)
        .expect("outbox-mail folder")
        .flatten()
    {
        let bytes = std::fs::read(entry.path()).expect("read an .eml");
        let parsed = mailparse::parse_mail(&bytes).expect("a parseable .eml");
        if parsed.headers.get_first_value("Message-ID").as_deref()
            != Some(queued.message_id.as_str())
        {
            continue;
        }
        let to = parsed.headers.get_first_value("To").unwrap_or_default();
        assert!(to.contains(address), "sent to {to}, not {address}");
        let text = parsed
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == "text/plain")
            .map(|p| p.get_body().expect("decoded text part"))
            .unwrap_or_else(|| parsed.get_body().expect("decoded body"));
        return text;
    }
    panic!("no .eml in {} for {address}", dir.display());
}

// ---------------------------------------------------------------------------------------------
// Workspaces

/// A workspace of ours created by `owner` through the same function as the page
/// (`manage::create`: its private `Group` actor with keys, the owner's membership).
pub async fn new_workspace(
    ctx: &culturecnous::context::AppContext,
    owner: &db::accounts::DbAccount,
    name: &str,
    listed: bool,
) -> db::workspaces::DbWorkspace {
    culturecnous::service::workspaces::manage::create(
        ctx,
        owner,
        culturecnous::service::workspaces::manage::WorkspaceInput {
            name: name.into(),
            description: "Une résidence avec des ateliers".into(),
            disciplines: vec!["Théâtre".into()],
            commune: String::new(),
            listed,
        },
    )
    .await
    .expect("workspace")
}

/// Makes `actor_id` a member of the workspace with `role` (invitations have their own tests).
pub async fn add_workspace_member(
    ctx: &culturecnous::context::AppContext,
    workspace_id: uuid::Uuid,
    actor_id: i64,
    role: &str,
) {
    use culturecnous::db::schema::workspace_members;
    let mut conn = ctx.conn().await.expect("conn");
    diesel::insert_into(workspace_members::table)
        .values((
            workspace_members::workspace_id.eq(workspace_id),
            workspace_members::actor_id.eq(actor_id),
            workspace_members::role.eq(role),
        ))
        .execute(&mut conn)
        .await
        .expect("member");
}
