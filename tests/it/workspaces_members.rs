//! Members of project workspaces: invitations by username, e-mail (the mailed link signs up
//! and joins) and fediverse handle (an `Invite` to the remote actor's personal inbox only),
//! answers, expiry, withdrawal, join requests, roles, removal and leaving — through the JSON
//! API, the pages and the domain functions the inbox calls.

use crate::{
    common::{PASSWORD, TestApp},
    federation_inbox::KEYS,
    helpers::{Browser, api, csrf_in, link_in, local_actor, queued, remote_actor_row, token},
};
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{Duration, Utc};
use culturecnous::{
    db::{
        self,
        actors::DbActor,
        schema::{notifications, workspace_invitations},
        workspaces::NewWorkspace,
    },
    federation::workspaces::audience,
    service::workspaces::{Role, access, invitations, members},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A workspace of the instance under test owned by `owner`, with its `Group` actor.
async fn workspace(app: &TestApp, owner: &str, name: &str, listed: bool) -> Uuid {
    let owner = db::accounts::by_login(&mut app.ctx.conn().await.expect("conn"), owner)
        .await
        .expect("query")
        .expect("owner account");
    crate::helpers::new_workspace(&app.ctx, &owner, name, listed)
        .await
        .id
}

/// A remote workspace one of our members may be invited to (the mirror row).
async fn remote_workspace(app: &TestApp, host: &str) -> (Uuid, DbActor) {
    let group = remote_actor_row(app, host, "residence", false).await;
    let id = Uuid::new_v4();
    let mut conn = app.ctx.conn().await.expect("conn");
    db::workspaces::insert(
        &mut conn,
        &NewWorkspace {
            id,
            actor_id: group.id,
            local: false,
            name: "Résidence ailleurs".into(),
            description_markdown: String::new(),
            description_html: String::new(),
            disciplines: vec![],
            commune_code: None,
            listed: false,
            created_by_account_id: None,
        },
    )
    .await
    .expect("remote workspace");
    (id, group)
}

async fn add_member(app: &TestApp, workspace_id: Uuid, actor_id: i64, role: &str) {
    crate::helpers::add_workspace_member(&app.ctx, workspace_id, actor_id, role).await;
}

async fn role_of(app: &TestApp, workspace_id: Uuid, actor_id: i64) -> Option<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::workspaces::member(&mut conn, workspace_id, actor_id)
        .await
        .expect("query")
        .map(|m| m.role)
}

async fn notification_kinds(app: &TestApp, account_id: i64) -> Vec<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    notifications::table
        .filter(notifications::account_id.eq(account_id))
        .order(notifications::id)
        .select(notifications::kind)
        .load(&mut conn)
        .await
        .expect("notifications")
}

fn members_path(id: Uuid) -> String {
    format!("/api/v1/workspaces/{id}/members")
}

async fn invite(app: &TestApp, token: &str, id: Uuid, body: Value) -> crate::common::TestResponse {
    api(app, Method::POST, &members_path(id), token, Some(body)).await
}

// ---------------------------------------------------------------------------------------------
// A remote server stand-in: WebFinger and actor documents.

#[derive(Clone, Default)]
struct FakeState {
    actors: Arc<Mutex<HashMap<String, Value>>>,
    base: Arc<Mutex<String>>,
}

#[derive(serde::Deserialize)]
struct WebfingerQuery {
    resource: String,
}

async fn fake_webfinger(
    State(state): State<FakeState>,
    Query(q): Query<WebfingerQuery>,
) -> Response {
    let base = state.base.lock().expect("lock").clone();
    let user = q
        .resource
        .strip_prefix("acct:")
        .and_then(|r| r.split('@').next())
        .unwrap_or_default()
        .to_string();
    if !state.actors.lock().expect("lock").contains_key(&user) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut response = Json(json!({
        "subject": q.resource,
        "links": [{"rel": "self", "type": "application/activity+json",
                   "href": format!("{base}/users/{user}")}]
    }))
    .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/jrd+json".parse().expect("ct"),
    );
    response
}

async fn fake_actor(State(state): State<FakeState>, Path(user): Path<String>) -> Response {
    match state.actors.lock().expect("lock").get(&user) {
        Some(doc) => {
            let mut response = doc.to_string().into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                "application/activity+json".parse().expect("ct"),
            );
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

struct FakeRemote {
    base: String,
    host: String,
    state: FakeState,
}

impl FakeRemote {
    async fn start() -> FakeRemote {
        let state = FakeState::default();
        let app = Router::new()
            .route("/.well-known/webfinger", get(fake_webfinger))
            .route("/users/{user}", get(fake_actor))
            .fallback(|| async { StatusCode::ACCEPTED })
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let host = format!("localhost:{port}");
        let base = format!("http://{host}");
        *state.base.lock().expect("lock") = base.clone();
        FakeRemote { base, host, state }
    }

    /// Publishes `user`'s actor document (with a personal and a shared inbox).
    fn add_actor(&self, user: &str) -> String {
        let id = format!("{}/users/{user}", self.base);
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": user,
            "name": "Chloé",
            "inbox": format!("{id}/inbox"),
            "outbox": format!("{id}/outbox"),
            "followers": format!("{id}/followers"),
            "endpoints": {"sharedInbox": format!("{}/inbox", self.base)},
            "publicKey": {"id": format!("{id}#main-key"), "owner": id,
                          "publicKeyPem": KEYS[0].public_key},
        });
        self.state
            .actors
            .lock()
            .expect("lock")
            .insert(user.to_string(), doc);
        id
    }
}

// ---------------------------------------------------------------------------------------------
// Invitations of local members

#[tokio::test(flavor = "multi_thread")]
async fn a_member_invited_by_username_accepts_and_becomes_a_member() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let bob = app.create_user("bob", "member").await;
    let id = workspace(&app, "alice", "Résidence au Fil de l'eau", false).await;
    let alice_token = token(&app, "alice").await;
    let bob_token = token(&app, "bob").await;

    let r = invite(
        &app,
        &alice_token,
        id,
        json!({"target": "@bob", "message": "Bienvenue !"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let invitation = r.json();
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["role"], "member");
    assert_eq!(invitation["target"], "bob@localhost:8080");
    assert!(
        notification_kinds(&app, bob.id)
            .await
            .contains(&"workspace_invitation".to_string())
    );

    // Invited twice: refused, the first invitation stands.
    let again = invite(&app, &alice_token, id, json!({"target": "bob"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("already has a pending invitation"));

    // Bob sees it, and nobody else may answer it.
    let mine = api(
        &app,
        Method::GET,
        "/api/v1/workspace-invitations",
        &bob_token,
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.json()["items"][0]["id"], invitation["id"]);
    assert_eq!(
        mine.json()["items"][0]["workspace_name"],
        "Résidence au Fil de l'eau"
    );
    let accept = format!(
        "/api/v1/workspace-invitations/{}/accept",
        invitation["id"].as_str().expect("id")
    );
    let r = api(&app, Method::POST, &accept, &alice_token, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Before accepting, Bob is no member (404 like a missing workspace).
    let r = api(&app, Method::GET, &members_path(id), &bob_token, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = api(&app, Method::POST, &accept, &bob_token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "accepted");
    let list = api(&app, Method::GET, &members_path(id), &bob_token, None).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.json()["items"].as_array().expect("items").clone();
    let roles: Vec<(&str, &str)> = items
        .iter()
        .map(|m| {
            (
                m["handle"].as_str().expect("h"),
                m["role"].as_str().expect("r"),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![
            ("alice@localhost:8080", "owner"),
            ("bob@localhost:8080", "member")
        ]
    );
    // The owner heard of the newcomer.
    let alice = db_account(&app, "alice").await;
    assert!(
        notification_kinds(&app, alice)
            .await
            .contains(&"workspace_membership".to_string())
    );

    // Answering twice is refused; a member is not invited again.
    let r = api(&app, Method::POST, &accept, &bob_token, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = invite(&app, &alice_token, id, json!({"target": "bob"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("already a member"), "{}", r.body);
}

/// A browser with a session of `username` (its CSRF token ready for `submit_form`).
async fn as_member<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let account = db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account");
    drop(conn);
    Browser::with_session(app, &account).await
}

async fn db_account(app: &TestApp, username: &str) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account")
        .id
}

#[tokio::test(flavor = "multi_thread")]
async fn only_coordinators_invite_and_strangers_see_nothing() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("carol", "member").await;
    app.create_user("dave", "member").await;
    app.create_user("erin", "member").await;
    let id = workspace(&app, "alice", "Ateliers d'écriture", false).await;
    add_member(&app, id, local_actor(&app, "carol").await.id, "member").await;
    let carol = token(&app, "carol").await;
    let dave = token(&app, "dave").await;
    let alice = token(&app, "alice").await;

    let r = invite(&app, &carol, id, json!({"target": "erin"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    for (method, body) in [
        (Method::GET, None),
        (Method::POST, Some(json!({"target": "erin"}))),
    ] {
        let r = api(&app, method, &members_path(id), &dave, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
    let r = api(
        &app,
        Method::GET,
        &members_path(Uuid::new_v4()),
        &dave,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api(
        &app,
        Method::GET,
        "/api/v1/workspaces/pas-un-uuid/members",
        &dave,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Bad input names its field.
    for (body, field) in [
        (json!({"target": "personne"}), "target"),
        (json!({"target": ""}), "target"),
        (json!({"target": "erin", "role": "owner"}), "role"),
        (json!({"target": "erin", "role": "chef"}), "role"),
        (
            json!({"target": "erin", "message": "x".repeat(2001)}),
            "message",
        ),
    ] {
        let r = invite(&app, &alice, id, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(
            crate::helpers::error_fields(&r),
            vec![field.to_string()],
            "{body}"
        );
    }
    assert_eq!(
        crate::helpers::rows_in(&app, "workspace_invitations").await,
        0
    );

    // A coordinator may invite, with the coordinator role too.
    add_member(&app, id, local_actor(&app, "dave").await.id, "coordinator").await;
    let r = invite(
        &app,
        &dave,
        id,
        json!({"target": "erin", "role": "coordinator"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["role"], "coordinator");
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_and_withdrawn_invitations_are_refused() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("carol", "member").await;
    let id = workspace(&app, "alice", "Fanfare", false).await;
    let alice = token(&app, "alice").await;
    let bob = token(&app, "bob").await;
    let carol = token(&app, "carol").await;

    let first = invite(&app, &alice, id, json!({"target": "bob"}))
        .await
        .json();
    let first_id: Uuid = first["id"].as_str().expect("id").parse().expect("uuid");
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(workspace_invitations::table.find(first_id))
        .set(workspace_invitations::expires_at.eq(Utc::now() - Duration::hours(1)))
        .execute(&mut conn)
        .await
        .expect("age it");
    drop(conn);
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/workspace-invitations/{first_id}/accept"),
        &bob,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert!(r.body.contains("expired"));
    assert_eq!(
        role_of(&app, id, local_actor(&app, "bob").await.id).await,
        None
    );
    // Expired, it no longer blocks a new invitation.
    let r = invite(&app, &alice, id, json!({"target": "bob"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Withdrawn by a coordinator: the invitee can no longer accept it.
    let second = invite(&app, &alice, id, json!({"target": "carol"}))
        .await
        .json();
    let second_id = second["id"].as_str().expect("id");
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/workspaces/{id}/invitations/{second_id}"),
        &alice,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/workspace-invitations/{second_id}/accept"),
        &carol,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        role_of(&app, id, local_actor(&app, "carol").await.id).await,
        None
    );

    // Declined: no member, the answer recorded.
    let third = invite(&app, &alice, id, json!({"target": "carol"}))
        .await
        .json();
    let r = api(
        &app,
        Method::POST,
        &format!(
            "/api/v1/workspace-invitations/{}/decline",
            third["id"].as_str().expect("id")
        ),
        &carol,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "declined");
    assert_eq!(
        role_of(&app, id, local_actor(&app, "carol").await.id).await,
        None
    );
}

// ---------------------------------------------------------------------------------------------
// Invitation by e-mail: the mailed link signs a new account up and joins

#[tokio::test(flavor = "multi_thread")]
async fn the_mailed_link_signs_a_newcomer_up_and_joins() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let id = workspace(&app, "alice", "Chorale des Hauts", false).await;
    let alice = token(&app, "alice").await;
    // `.invalid` never resolves: no server answers for it, so this is an address.
    let address = "nouvelle@compagnie.invalid";
    let r = invite(
        &app,
        &alice,
        id,
        json!({"target": address, "role": "coordinator"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["target"], address);

    let text = crate::helpers::received_text_to(&app.ctx, address).await;
    assert!(text.contains("Chorale des Hauts"), "{text}");
    let link = link_in(&text, "/espaces/rejoindre/");
    // Only the hash of the secret is stored.
    let secret = link.trim_start_matches("/espaces/rejoindre/");
    let mut conn = app.ctx.conn().await.expect("conn");
    let stored: Option<String> = workspace_invitations::table
        .select(workspace_invitations::token_hash)
        .first(&mut conn)
        .await
        .expect("invitation");
    drop(conn);
    assert_eq!(
        stored.as_deref(),
        Some(culturecnous::service::tokens::hash_token(secret).as_str())
    );

    // Not logged in: the page offers to log in (keeping the link) or to sign up.
    let browser = Browser::new(&app);
    let page = browser.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Chorale des Hauts"));
    assert!(
        page.body
            .contains(&format!("/connexion?next={}", crate::helpers::enc(&link)))
    );
    let csrf = csrf_in(&page.body);
    let r = browser
        .post_form(
            &link,
            &[
                ("csrf_token", csrf.as_str()),
                ("action", "signup"),
                ("kind", "individual"),
                ("display_name", "Nouvelle"),
                ("username", "nouvelle"),
                ("email", address),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("/espaces/{id}/membres").as_str())
    );
    let newcomer = local_actor(&app, "nouvelle").await;
    assert_eq!(
        role_of(&app, id, newcomer.id).await.as_deref(),
        Some("coordinator")
    );
    // Logged in: the members page is theirs now.
    let page = browser.get(&format!("/espaces/{id}/membres")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Nouvelle"));

    // The link is used.
    let again = Browser::new(&app).get(&link).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // An unknown link is a plain 404.
    let r = Browser::new(&app)
        .get("/espaces/rejoindre/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mailed_link_opened_logged_in_joins_with_that_account() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let id = workspace(&app, "alice", "Festival", false).await;
    let alice = token(&app, "alice").await;
    let address = "contact@bibliotheque.invalid";
    let r = invite(&app, &alice, id, json!({"target": address})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let text = crate::helpers::received_text_to(&app.ctx, address).await;
    let link = link_in(&text, "/espaces/rejoindre/");

    let bob = as_member(&app, "bob").await;
    let page = bob.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Festival"));
    let r = bob.submit_form(&link, &[("action", "accept")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let bob_actor = local_actor(&app, "bob").await;
    assert_eq!(
        role_of(&app, id, bob_actor.id).await.as_deref(),
        Some("member")
    );
}

// ---------------------------------------------------------------------------------------------
// Remote members

#[tokio::test(flavor = "multi_thread")]
async fn a_fediverse_handle_gets_one_invite_in_its_personal_inbox() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let id = workspace(&app, "alice", "Résidence partagée", false).await;
    let alice = token(&app, "alice").await;
    let remote = FakeRemote::start().await;
    let chloe = remote.add_actor("chloe");

    // Unknown on that server: 422 naming the field.
    let r = invite(
        &app,
        &alice,
        id,
        json!({"target": format!("@personne@{}", remote.host)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(crate::helpers::error_fields(&r), vec!["target".to_string()]);

    let r = invite(
        &app,
        &alice,
        id,
        json!({"target": format!("chloe@{}", remote.host)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let invitation = r.json();
    let invite_id = invitation["ap_id"]
        .as_str()
        .expect("an Invite id")
        .to_string();
    assert_eq!(invitation["status"], "pending");

    let invites = queued(&app, "Invite").await;
    assert_eq!(invites.len(), 1, "{invites:?}");
    let (activity, inboxes) = &invites[0];
    assert_eq!(activity["id"], invite_id.as_str());
    // The workspace invites chloe to itself (AS2: actor invites `target` to `object`).
    assert_eq!(activity["target"], chloe.as_str());
    assert_eq!(activity["to"], json!([chloe]));
    assert!(
        activity
            .get("cc")
            .is_none_or(|cc| cc.as_array().is_some_and(|a| a.is_empty()))
    );
    assert_eq!(inboxes, &vec![format!("{chloe}/inbox")]);

    // Her server accepts (the inbox calls the domain function): she is a member.
    let chloe_actor = actor_by_ap_id(&app, &chloe).await;
    let invitation_id: Uuid = invitation["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    invitations::answer(&app.ctx, invitation_id, &chloe_actor, true)
        .await
        .expect("accepted");
    assert_eq!(
        role_of(&app, id, chloe_actor.id).await.as_deref(),
        Some("member")
    );
}

async fn actor_by_ap_id(app: &TestApp, ap_id: &str) -> DbActor {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::actors::by_ap_id(&mut conn, ap_id)
        .await
        .expect("query")
        .expect("actor")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_remote_member_gets_a_remove_and_nothing_after() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let id = workspace(&app, "alice", "Résidence", false).await;
    let rosa = remote_actor_row(&app, "remote.example", "rosa", true).await;
    let theo = remote_actor_row(&app, "remote.example", "theo", true).await;
    add_member(&app, id, rosa.id, "member").await;
    add_member(&app, id, theo.id, "member").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let ws = db::workspaces::by_id(&mut conn, id)
        .await
        .expect("q")
        .expect("ws");
    let before = audience::of(&mut conn, &ws, None).await.expect("audience");
    assert_eq!(before.inboxes.len(), 2);
    drop(conn);

    let alice = token(&app, "alice").await;
    let r = api(
        &app,
        Method::DELETE,
        &format!("{}/{}", members_path(id), rosa.id),
        &alice,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(role_of(&app, id, rosa.id).await, None);

    let removes = queued(&app, "Remove").await;
    assert_eq!(removes.len(), 1, "{removes:?}");
    assert_eq!(removes[0].1, vec![rosa.inbox_url.clone()]);

    // From now on the workspace's audience is Théo only.
    let mut conn = app.ctx.conn().await.expect("conn");
    let after = audience::of(&mut conn, &ws, None).await.expect("audience");
    assert_eq!(after.inboxes.len(), 1);
    assert_eq!(after.inboxes[0].as_str(), theo.inbox_url);
    assert!(after.to.iter().all(|u| u.as_str() != rosa.ap_id));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_member_leaving_is_dropped_and_our_member_leaves_a_remote_workspace() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let id = workspace(&app, "alice", "Résidence", false).await;
    let rosa = remote_actor_row(&app, "remote.example", "rosa", true).await;
    add_member(&app, id, rosa.id, "member").await;
    // Her `Leave` arrived.
    members::leave(&app.ctx, id, &rosa).await.expect("left");
    assert_eq!(role_of(&app, id, rosa.id).await, None);
    let mut conn = app.ctx.conn().await.expect("conn");
    let ws = db::workspaces::by_id(&mut conn, id)
        .await
        .expect("q")
        .expect("ws");
    assert!(
        audience::of(&mut conn, &ws, None)
            .await
            .expect("a")
            .inboxes
            .is_empty()
    );
    drop(conn);

    // Bob is invited by a remote workspace, accepts, then leaves.
    let (remote_id, group) = remote_workspace(&app, "other.example").await;
    let bob = local_actor(&app, "bob").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let invitation_id: Uuid = diesel::insert_into(workspace_invitations::table)
        .values((
            workspace_invitations::workspace_id.eq(remote_id),
            workspace_invitations::invited_by_actor_id.eq(group.id),
            workspace_invitations::actor_id.eq(bob.id),
            workspace_invitations::ap_id.eq("http://other.example/activities/invite-1"),
        ))
        .returning(workspace_invitations::id)
        .get_result(&mut conn)
        .await
        .expect("received invitation");
    drop(conn);
    let bob_token = token(&app, "bob").await;
    let mine = api(
        &app,
        Method::GET,
        "/api/v1/workspace-invitations",
        &bob_token,
        None,
    )
    .await;
    assert_eq!(
        mine.json()["items"][0]["workspace_name"],
        "Résidence ailleurs"
    );
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/workspace-invitations/{invitation_id}/accept"),
        &bob_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        role_of(&app, remote_id, bob.id).await.as_deref(),
        Some("member")
    );
    let accepts = queued(&app, "Accept").await;
    assert_eq!(accepts.len(), 1, "{accepts:?}");
    assert_eq!(accepts[0].1, vec![group.inbox_url.clone()]);

    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/workspaces/{remote_id}/leave"),
        &bob_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(role_of(&app, remote_id, bob.id).await, None);
    let leaves = queued(&app, "Leave").await;
    assert_eq!(leaves.len(), 1, "{leaves:?}");
    assert_eq!(leaves[0].1, vec![group.inbox_url.clone()]);
}

// ---------------------------------------------------------------------------------------------
// Roles, removal, leaving

#[tokio::test(flavor = "multi_thread")]
async fn roles_removal_and_leaving_follow_the_rules() {
    let app = TestApp::new().await;
    for name in ["alice", "carol", "dave", "erin"] {
        app.create_user(name, "member").await;
    }
    let id = workspace(&app, "alice", "Atelier", false).await;
    let carol = local_actor(&app, "carol").await;
    let dave = local_actor(&app, "dave").await;
    let erin = local_actor(&app, "erin").await;
    let alice_actor = local_actor(&app, "alice").await;
    for a in [&carol, &dave, &erin] {
        add_member(&app, id, a.id, "member").await;
    }
    let alice = token(&app, "alice").await;
    let carol_t = token(&app, "carol").await;
    let erin_t = token(&app, "erin").await;
    let member = |a: &DbActor| format!("{}/{}", members_path(id), a.id);

    // The owner names Carol coordinator; nobody else changes roles; no second owner.
    let r = api(
        &app,
        Method::PATCH,
        &member(&carol),
        &alice,
        Some(json!({"role": "coordinator"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["role"], "coordinator");
    let r = api(
        &app,
        Method::PATCH,
        &member(&dave),
        &carol_t,
        Some(json!({"role": "coordinator"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(
        &app,
        Method::PATCH,
        &member(&dave),
        &alice,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = api(
        &app,
        Method::PATCH,
        &member(&alice_actor),
        &alice,
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api(
        &app,
        Method::PATCH,
        &format!("{}/999999", members_path(id)),
        &alice,
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A member removes nobody; a coordinator removes a member but not the owner nor another
    // coordinator.
    let r = api(&app, Method::DELETE, &member(&dave), &erin_t, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(&app, Method::DELETE, &member(&alice_actor), &carol_t, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(
        &app,
        Method::PATCH,
        &member(&dave),
        &alice,
        Some(json!({"role": "coordinator"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api(&app, Method::DELETE, &member(&dave), &carol_t, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        role_of(&app, id, dave.id).await.as_deref(),
        Some("coordinator")
    );
    let r = api(&app, Method::DELETE, &member(&erin), &carol_t, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(role_of(&app, id, erin.id).await, None);
    let erin_account = db_account(&app, "erin").await;
    assert!(
        notification_kinds(&app, erin_account)
            .await
            .contains(&"workspace_membership".to_string())
    );
    // Erin, removed, is a stranger now.
    let r = api(&app, Method::GET, &members_path(id), &erin_t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The owner removes a coordinator.
    let r = api(&app, Method::DELETE, &member(&dave), &alice, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // The owner cannot leave; a coordinator can.
    let leave = format!("/api/v1/workspaces/{id}/leave");
    let r = api(&app, Method::POST, &leave, &alice, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("transfer the ownership"));
    assert_eq!(
        role_of(&app, id, alice_actor.id).await.as_deref(),
        Some("owner")
    );
    let r = api(&app, Method::POST, &leave, &carol_t, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(role_of(&app, id, carol.id).await, None);
    let r = api(&app, Method::POST, &leave, &carol_t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn archived_workspaces_take_no_invitation() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let id = workspace(&app, "alice", "Archivé", false).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(db::schema::workspaces::table.find(id))
        .set(db::schema::workspaces::archived_at.eq(Some(Utc::now())))
        .execute(&mut conn)
        .await
        .expect("archive");
    drop(conn);
    let alice = token(&app, "alice").await;
    let r = invite(&app, &alice, id, json!({"target": "bob"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        crate::helpers::rows_in(&app, "workspace_invitations").await,
        0
    );
}

// ---------------------------------------------------------------------------------------------
// Join requests

#[tokio::test(flavor = "multi_thread")]
async fn join_requests_to_listed_workspaces() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("dave", "member").await;
    let listed = workspace(&app, "alice", "Projet ouvert", true).await;
    let hidden = workspace(&app, "alice", "Projet discret", false).await;
    let dave = token(&app, "dave").await;
    let alice = token(&app, "alice").await;

    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/workspaces/{hidden}/join-requests"),
        &dave,
        Some(json!({"message": "Bonjour"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let ask = format!("/api/v1/workspaces/{listed}/join-requests");
    let r = api(
        &app,
        Method::POST,
        &ask,
        &dave,
        Some(json!({"message": "Je joue du violon"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let request_id = r.json()["id"].as_str().expect("id").to_string();
    let r = api(&app, Method::POST, &ask, &dave, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let alice_account = db_account(&app, "alice").await;
    assert!(
        notification_kinds(&app, alice_account)
            .await
            .contains(&"workspace_join_request".to_string())
    );
    // Only a coordinator answers.
    let accept = format!("/api/v1/workspaces/{listed}/join-requests/{request_id}/accept");
    let r = api(&app, Method::POST, &accept, &dave, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api(&app, Method::POST, &accept, &alice, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "accepted");
    let dave_actor = local_actor(&app, "dave").await;
    assert_eq!(
        role_of(&app, listed, dave_actor.id).await.as_deref(),
        Some("member")
    );
    let r = api(&app, Method::POST, &accept, &alice, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A member does not ask again.
    let r = api(&app, Method::POST, &ask, &dave, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_join_accepted_makes_a_member_told_by_an_update() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let id = workspace(&app, "alice", "Projet ouvert", true).await;
    let rosa = remote_actor_row(&app, "remote.example", "rosa", true).await;
    let join_id = url::Url::parse("http://remote.example/activities/join-1").expect("url");
    let request = invitations::request_to_join(&app.ctx, id, &rosa, "", Some(&join_id))
        .await
        .expect("asked");
    assert_eq!(request.ap_id.as_deref(), Some(join_id.as_str()));
    let alice = local_actor(&app, "alice").await;
    let access = access(&app.ctx, id, alice.id).await.expect("access");
    assert_eq!(access.role, Role::Owner);
    invitations::answer_join_request(&app.ctx, &access, request.id, true)
        .await
        .expect("accepted");
    assert_eq!(role_of(&app, id, rosa.id).await.as_deref(), Some("member"));
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0].1, vec![rosa.inbox_url.clone()]);
}

// ---------------------------------------------------------------------------------------------
// Pages

#[tokio::test(flavor = "multi_thread")]
async fn the_members_page_shows_members_and_forms_by_role() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("dave", "member").await;
    let id = workspace(&app, "alice", "Résidence au Fil de l'eau", false).await;
    add_member(&app, id, local_actor(&app, "bob").await.id, "member").await;
    let rosa = remote_actor_row(&app, "remote.example", "rosa", true).await;
    add_member(&app, id, rosa.id, "member").await;
    let path = format!("/espaces/{id}/membres");

    let alice = as_member(&app, "alice").await;
    let page = alice.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("rosa@remote.example"));
    assert!(page.body.contains("identifiant fédivers"));
    assert!(
        page.body
            .contains(&format!("action=\"/espaces/{id}/membres/inviter\""))
    );

    // A plain member sees the list and the leave form, no invitation form.
    let bob = as_member(&app, "bob").await;
    let page = bob.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/membres/inviter"));
    assert!(
        page.body
            .contains(&format!("action=\"/espaces/{id}/quitter\""))
    );
    // A stranger and an anonymous visitor learn nothing.
    let dave = as_member(&app, "dave").await;
    assert_eq!(dave.get(&path).await.status, StatusCode::NOT_FOUND);
    let anonymous = Browser::new(&app).get(&path).await;
    assert_ne!(anonymous.status, StatusCode::OK);

    // Invite Dave from the page; he answers from his invitations page.
    let r = alice
        .submit_form(
            &format!("/espaces/{id}/membres/inviter"),
            &[("target", "dave"), ("role", "member"), ("message", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = alice.get(&path).await;
    assert!(page.body.contains("dave@localhost:8080"));
    let list = dave.get("/espaces/invitations").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("Résidence au Fil de l&#39;eau")
            || list.body.contains("Résidence au Fil de l&#x27;eau")
    );
    let invitation_id: Uuid = {
        let mut conn = app.ctx.conn().await.expect("conn");
        workspace_invitations::table
            .select(workspace_invitations::id)
            .first(&mut conn)
            .await
            .expect("invitation")
    };
    let one = format!("/espaces/invitations/{invitation_id}");
    assert_eq!(bob.get(&one).await.status, StatusCode::NOT_FOUND);
    let page = dave.get(&one).await;
    assert_eq!(page.status, StatusCode::OK);
    let r = dave.submit_form(&one, &[("answer", "accept")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some(path.as_str()));
    assert_eq!(
        role_of(&app, id, local_actor(&app, "dave").await.id)
            .await
            .as_deref(),
        Some("member")
    );

    // Bad input on the page: 422 with the field named, nothing written.
    let r = alice
        .submit_form(
            &format!("/espaces/{id}/membres/inviter"),
            &[("target", "personne"), ("role", "member"), ("message", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("f-target"));

    // Bob leaves from the page.
    let r = bob
        .submit_form(&format!("/espaces/{id}/quitter"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(bob.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_join_page_of_a_listed_workspace_sends_a_request() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("dave", "member").await;
    let listed = workspace(&app, "alice", "Projet ouvert", true).await;
    let hidden = workspace(&app, "alice", "Projet discret", false).await;
    let dave = as_member(&app, "dave").await;
    assert_eq!(
        dave.get(&format!("/espaces/{hidden}/rejoindre"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let path = format!("/espaces/{listed}/rejoindre");
    let page = dave.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Projet ouvert"));
    let r = dave.submit_form(&path, &[("message", "Bonjour !")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        crate::helpers::rows_in(&app, "workspace_join_requests").await,
        1
    );

    // The owner answers from the members page.
    let alice = as_member(&app, "alice").await;
    let page = alice.get(&format!("/espaces/{listed}/membres")).await;
    assert!(page.body.contains("Bonjour !"));
    let request_id: Uuid = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::schema::workspace_join_requests::table
            .select(db::schema::workspace_join_requests::id)
            .first(&mut conn)
            .await
            .expect("request")
    };
    let r = alice
        .submit_form(
            &format!("/espaces/{listed}/membres/demandes/{request_id}"),
            &[("answer", "accept")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        role_of(&app, listed, local_actor(&app, "dave").await.id)
            .await
            .as_deref(),
        Some("member")
    );
}
