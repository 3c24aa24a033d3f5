//! The chat of a workspace (issue 12, item 4): posting, editing and deleting rules, the
//! 10 000-character limit, paging, mentions, unread counters, membership checked on every URL
//! and on the WebSocket, live frames, private deliveries to remote members, and messages of
//! remote members arriving by federation (shown, and relayed by the workspace's `Group`).

use crate::{
    common::{PASSWORD, TestApp},
    federation_inbox::{Remote, deliver, remote_actor},
    helpers::{Browser, api, queued, rows_in, token},
};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use culturecnous::{
    context::AppContext,
    db::{
        accounts::DbAccount,
        actors::DbActor,
        schema::{accounts, notifications, workspaces},
    },
    service::accounts::{NewAccountInput, create_account},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A workspace of ours named `name`, with its `Group` actor (and keys), owned by an account
/// made for it (`owner_…`, who takes no part in the tests).
pub async fn workspace(ctx: &AppContext, name: &str) -> Uuid {
    let owner = create_account(
        ctx,
        NewAccountInput {
            username: format!("owner_{}", &Uuid::new_v4().simple().to_string()[..8]),
            email: format!("owner-{}@example.org", Uuid::new_v4().simple()),
            password: PASSWORD.into(),
            kind: "individual".into(),
            role: "member".into(),
            display_name: "Hôte".into(),
        },
    )
    .await
    .expect("owner");
    crate::helpers::new_workspace(ctx, &owner, name, false)
        .await
        .id
}

/// Makes `actor_id` a member of the workspace with `role`.
pub async fn add_member(ctx: &AppContext, workspace_id: Uuid, actor_id: i64, role: &str) {
    crate::helpers::add_workspace_member(ctx, workspace_id, actor_id, role).await;
}

async fn local_member(app: &TestApp, ws: Uuid, username: &str, role: &str) -> (DbActor, String) {
    let account = app.create_user(username, "member").await;
    add_member(&app.ctx, ws, account.actor_id, role).await;
    let actor = crate::helpers::local_actor(app, username).await;
    (actor, token(app, username).await)
}

/// A browser with a session of `username`.
async fn browser<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let account: DbAccount = accounts::table
        .filter(accounts::username.eq(username))
        .select(DbAccount::as_select())
        .first(&mut conn)
        .await
        .expect("account");
    Browser::with_session(app, &account).await
}

fn messages_url(ws: Uuid) -> String {
    format!("/api/v1/workspaces/{ws}/messages")
}

async fn post_message(app: &TestApp, ws: Uuid, token: &str, body: &str) -> Value {
    let r = api(
        app,
        Method::POST,
        &messages_url(ws),
        token,
        Some(json!({"body": body})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// A set-up workspace: owner `ana`, coordinator `coline`, member `bob`, outsider `oscar`.
struct Setup {
    app: TestApp,
    ws: Uuid,
    ana: String,
    coline: String,
    bob: String,
    oscar: String,
}

async fn setup() -> Setup {
    let app = TestApp::new().await;
    let owner = app.create_user("ana", "member").await;
    let ws = crate::helpers::new_workspace(&app.ctx, &owner, "Résidence au foyer", false)
        .await
        .id;
    let ana = token(&app, "ana").await;
    let (_, coline) = local_member(&app, ws, "coline", "coordinator").await;
    let (_, bob) = local_member(&app, ws, "bob", "member").await;
    app.create_user("oscar", "member").await;
    let oscar = token(&app, "oscar").await;
    Setup {
        app,
        ws,
        ana,
        coline,
        bob,
        oscar,
    }
}

// ---------------------------------------------------------------------------------------------
// Rules

#[tokio::test(flavor = "multi_thread")]
async fn members_post_edit_and_delete_their_own_messages_and_coordinators_moderate() {
    let s = setup().await;
    let app = &s.app;
    let posted = post_message(app, s.ws, &s.ana, "Bonjour **à tous**").await;
    let id = posted["id"].as_str().expect("id").to_string();
    assert!(posted["seq"].as_i64().is_some());
    assert!(
        posted["ap_id"]
            .as_str()
            .expect("ap_id")
            .starts_with(&format!(
                "http://localhost:8080/workspaces/{}/messages/",
                s.ws
            ))
    );
    let one = format!("{}/{id}", messages_url(s.ws));

    // Someone else's message: neither edited nor deleted by a plain member.
    let r = api(
        app,
        Method::PATCH,
        &one,
        &s.bob,
        Some(json!({"body": "non"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = api(app, Method::DELETE, &one, &s.bob, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The author edits it.
    let r = api(
        app,
        Method::PATCH,
        &one,
        &s.ana,
        Some(json!({"body": "Bonjour *modifié*"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()["html"]
            .as_str()
            .expect("html")
            .contains("<em>modifié</em>")
    );
    assert!(r.json()["edited_at"].is_string());

    // A coordinator deletes it; the conversation keeps its place, without its text.
    let r = api(app, Method::DELETE, &one, &s.coline, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let list = api(app, Method::GET, &messages_url(s.ws), &s.bob, None)
        .await
        .json();
    assert_eq!(list["items"][0]["deleted"], json!(true));
    assert_eq!(list["items"][0]["html"], json!(""));
    // A deleted message is not edited any more.
    let r = api(
        app,
        Method::PATCH,
        &one,
        &s.ana,
        Some(json!({"body": "encore"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // Scripts never survive.
    let posted = post_message(app, s.ws, &s.bob, "<script>alert(1)</script>salut").await;
    let list = api(app, Method::GET, &messages_url(s.ws), &s.ana, None)
        .await
        .json();
    assert_eq!(list["items"][0]["id"], posted["id"]);
    assert!(
        !list["items"][0]["html"]
            .as_str()
            .expect("html")
            .contains("<script")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_over_ten_thousand_characters_is_refused_and_nothing_is_stored() {
    let s = setup().await;
    let app = &s.app;
    for body in ["a".repeat(10_001), "   ".to_string()] {
        let r = api(
            app,
            Method::POST,
            &messages_url(s.ws),
            &s.ana,
            Some(json!({"body": body})),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(crate::helpers::error_fields(&r), vec!["body".to_string()]);
    }
    assert_eq!(rows_in(app, "workspace_messages").await, 0);
    assert_eq!(rows_in(app, "activities").await, 0);
    // Exactly 10 000 is fine.
    post_message(app, s.ws, &s.ana, &"é".repeat(10_000)).await;
    assert_eq!(rows_in(app, "workspace_messages").await, 1);

    // The form answers 422 too, with the field named, and stores nothing.
    let browser = browser(app, "bob").await;
    let path = format!("/espaces/{}/discussion", s.ws);
    let long = "b".repeat(10_001);
    let r = browser
        .submit_form(&path, &[("body", &long), ("in_reply_to", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("10 000"), "{}", r.body);
    assert_eq!(rows_in(app, "workspace_messages").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archived_workspace_takes_no_message() {
    let s = setup().await;
    {
        let mut conn = s.app.ctx.conn().await.expect("conn");
        diesel::update(workspaces::table.find(s.ws))
            .set(workspaces::archived_at.eq(Some(Utc::now())))
            .execute(&mut conn)
            .await
            .expect("archive");
    }
    let r = api(
        &s.app,
        Method::POST,
        &messages_url(s.ws),
        &s.ana,
        Some(json!({"body": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(rows_in(&s.app, "workspace_messages").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outsider_gets_404_on_every_url() {
    let s = setup().await;
    let app = &s.app;
    let posted = post_message(app, s.ws, &s.ana, "privé").await;
    let id = posted["id"].as_str().expect("id");
    let list = messages_url(s.ws);
    let one = format!("{list}/{id}");
    let read = format!("{list}/read");
    for (method, uri, body) in [
        (Method::GET, list.clone(), None),
        (Method::POST, list.clone(), Some(json!({"body": "intrus"}))),
        (Method::PATCH, one.clone(), Some(json!({"body": "intrus"}))),
        (Method::DELETE, one.clone(), None),
        (Method::POST, read.clone(), Some(json!({}))),
    ] {
        let r = api(app, method.clone(), &uri, &s.oscar, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            r.body
        );
        // Exactly the answer for a workspace that does not exist.
        let missing = uri.replace(&s.ws.to_string(), &Uuid::new_v4().to_string());
        let r2 = api(app, method.clone(), &missing, &s.ana, body).await;
        assert_eq!(r2.status, StatusCode::NOT_FOUND);
    }
    let browser = browser(app, "oscar").await;
    let page = format!("/espaces/{}/discussion", s.ws);
    assert_eq!(browser.get(&page).await.status, StatusCode::NOT_FOUND);
    let r = browser
        .submit_form(&page, &[("body", "intrus"), ("in_reply_to", "")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = browser
        .submit_form(&format!("{page}/{id}/supprimer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = browser
        .submit_form(&format!("{page}/{id}/modifier"), &[("body", "x")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(rows_in(app, "workspace_messages").await, 1);
    // The message's object URL: unsigned → 404.
    let r = app
        .get(
            &format!("/workspaces/{}/messages/{id}", s.ws),
            crate::helpers::AP,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_a_page_newest_first_and_unread_counters() {
    let s = setup().await;
    let app = &s.app;
    let mut seqs = Vec::new();
    for n in 0..55 {
        seqs.push(
            post_message(app, s.ws, &s.ana, &format!("message {n}")).await["seq"]
                .as_i64()
                .expect("seq"),
        );
    }
    let first = api(app, Method::GET, &messages_url(s.ws), &s.bob, None)
        .await
        .json();
    let items = first["items"].as_array().expect("items");
    assert_eq!(items.len(), 50);
    assert_eq!(items[0]["seq"].as_i64(), seqs.last().copied());
    assert!(
        items[0]["html"]
            .as_str()
            .expect("html")
            .contains("message 54")
    );
    assert_eq!(first["unread"], json!(55));
    // The author has nothing unread.
    let own = api(app, Method::GET, &messages_url(s.ws), &s.ana, None)
        .await
        .json();
    assert_eq!(own["unread"], json!(0));

    let before = first["next_before"].as_i64().expect("next page");
    let second = api(
        app,
        Method::GET,
        &format!("{}?before={before}", messages_url(s.ws)),
        &s.bob,
        None,
    )
    .await
    .json();
    let older = second["items"].as_array().expect("items");
    assert_eq!(older.len(), 5);
    assert!(
        older[4]["html"]
            .as_str()
            .expect("html")
            .contains("message 0")
    );
    assert!(second["next_before"].is_null());

    // Reading up to the 10th message leaves 45.
    let r = api(
        app,
        Method::POST,
        &format!("{}/read", messages_url(s.ws)),
        &s.bob,
        Some(json!({"up_to": seqs[9]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["unread"], json!(45));
    // The marker never goes back.
    let r = api(
        app,
        Method::POST,
        &format!("{}/read", messages_url(s.ws)),
        &s.bob,
        Some(json!({"up_to": seqs[0]})),
    )
    .await;
    assert_eq!(r.json()["unread"], json!(45));

    // The header counts them; opening the chat reads them.
    let browser = browser(app, "bob").await;
    let activity = browser
        .get(&format!("/espaces/{}/discussion?before={}", s.ws, seqs[54]))
        .await;
    assert!(activity.body.contains(">45<"), "{}", activity.body);
    let page = browser.get(&format!("/espaces/{}/discussion", s.ws)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("message 54") && !page.body.contains("message 4<"));
    assert!(page.body.contains("aria-live=\"polite\""));
    assert!(
        page.body.contains(&format!("?before={before}")),
        "older messages link"
    );
    let after = api(app, Method::GET, &messages_url(s.ws), &s.bob, None)
        .await
        .json();
    assert_eq!(after["unread"], json!(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn mentioning_a_member_notifies_them_and_outsiders_cannot_be_mentioned() {
    let s = setup().await;
    let app = &s.app;
    post_message(app, s.ws, &s.ana, "@bob tu peux relire ? et @oscar aussi").await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let kinds: Vec<(i64, String)> = notifications::table
        .filter(notifications::kind.eq("workspace_mention"))
        .select((notifications::account_id, notifications::kind))
        .load(&mut conn)
        .await
        .expect("notifications");
    let bob: i64 = accounts::table
        .filter(accounts::username.eq("bob"))
        .select(accounts::id)
        .first(&mut conn)
        .await
        .expect("bob");
    assert_eq!(kinds.len(), 1, "{kinds:?}");
    assert_eq!(kinds[0].0, bob);
    assert_eq!(rows_in(app, "workspace_message_mentions").await, 1);
    let list = api(app, Method::GET, &messages_url(s.ws), &s.bob, None)
        .await
        .json();
    let html = list["items"][0]["html"].as_str().expect("html");
    assert!(html.contains("class=\"u-url mention\""), "{html}");
    assert!(
        html.contains("@oscar"),
        "the outsider stays plain text: {html}"
    );
    drop(conn);
    // A replied message keeps its parent.
    let parent = list["items"][0]["id"].clone();
    let r = api(
        app,
        Method::POST,
        &messages_url(s.ws),
        &s.bob,
        Some(json!({"body": "oui", "in_reply_to": parent})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = api(
        app,
        Method::POST,
        &messages_url(s.ws),
        &s.bob,
        Some(json!({"body": "oui", "in_reply_to": Uuid::new_v4()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

// ---------------------------------------------------------------------------------------------
// Federation

#[tokio::test(flavor = "multi_thread")]
async fn a_message_goes_to_each_remote_members_personal_inbox_only() {
    let s = setup().await;
    let app = &s.app;
    let r1 = crate::helpers::remote_actor_row(app, "one.example", "rose", true).await;
    let r2 = crate::helpers::remote_actor_row(app, "two.example", "remi", true).await;
    add_member(&app.ctx, s.ws, r1.id, "member").await;
    add_member(&app.ctx, s.ws, r2.id, "member").await;
    post_message(app, s.ws, &s.ana, "Réunion jeudi ?").await;
    let creates = queued(app, "Create").await;
    assert_eq!(creates.len(), 1);
    let (activity, inboxes) = &creates[0];
    assert_eq!(inboxes, &vec![r1.inbox_url.clone(), r2.inbox_url.clone()]);
    let mut to: Vec<String> = serde_json::from_value(activity["to"].clone()).expect("to");
    to.sort();
    assert_eq!(to, vec![r1.ap_id.clone(), r2.ap_id.clone()]);
    assert!(activity.get("cc").is_none());
    let note = &activity["object"];
    assert_eq!(note["type"], json!("Note"));
    assert_eq!(note["to"], activity["to"]);
    assert!(note.get("cc").is_none());
    let group = app.ctx.urls.workspace(&s.ws);
    assert_eq!(note["audience"], json!(group));
    assert_eq!(note["context"], json!(group));
    assert!(!activity.to_string().contains("#Public"));
    assert!(!activity.to_string().contains("/followers"));
}

/// A remote member `name` on `base`, signing with key `key`.
async fn remote_member(app: &TestApp, ws: Uuid, base: &str, name: &str, key: usize) -> Remote {
    let remote = remote_actor(app, base, name, key).await;
    add_member(&app.ctx, ws, remote.actor.id, "member").await;
    remote
}

fn create_note(from: &Remote, ws_group: &str, n: u32, content: &str) -> Value {
    let note_id = format!("{}/notes/{n}", from.id());
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note_id}/activity"),
        "type": "Create",
        "actor": from.id(),
        "to": [ws_group],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": from.id(),
            "content": content,
            "published": Utc::now().to_rfc3339(),
            "audience": ws_group,
            "context": ws_group,
            "to": [ws_group],
        },
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_members_note_shows_in_the_chat_and_is_relayed_to_the_others() {
    let s = setup().await;
    let app = &s.app;
    let rose = remote_member(app, s.ws, "https://one.example", "rose", 0).await;
    let remi = remote_member(app, s.ws, "https://two.example", "remi", 1).await;
    let group = app.ctx.urls.workspace(&s.ws);
    let activity = create_note(
        &rose,
        &group,
        1,
        "<p>Bonjour depuis <b>un autre serveur</b></p>",
    );
    let status = deliver(app, &rose, &activity).await;
    assert!(status.is_success(), "{status}");
    // Received twice, stored once.
    deliver(app, &rose, &activity).await;
    assert_eq!(rows_in(app, "workspace_messages").await, 1);
    let list = api(app, Method::GET, &messages_url(s.ws), &s.bob, None)
        .await
        .json();
    assert_eq!(
        list["items"][0]["author_handle"],
        json!("@rose@one.example")
    );
    assert!(
        list["items"][0]["html"]
            .as_str()
            .expect("html")
            .contains("un autre serveur")
    );
    assert_eq!(list["unread"], json!(1));

    let announces = queued(app, "Announce").await;
    assert_eq!(announces.len(), 1, "{announces:?}");
    let (announce, inboxes) = &announces[0];
    assert_eq!(inboxes, &vec![remi.actor.inbox_url.clone()]);
    assert_eq!(announce["actor"], json!(group));
    assert_eq!(announce["to"], json!([remi.id()]));
    assert_eq!(announce["object"]["type"], json!("Create"));
    assert_eq!(announce["object"]["actor"], json!(rose.id()));
    assert_eq!(announce["object"]["object"]["id"], activity["object"]["id"]);
    assert!(announce.get("cc").is_none());

    // The author edits and deletes it from their server.
    let note_id = activity["object"]["id"].as_str().expect("id");
    let mut update = activity.clone();
    update["id"] = json!(format!("{note_id}/update"));
    update["type"] = json!("Update");
    update["object"]["content"] = json!("<p>Corrigé</p>");
    assert!(deliver(app, &rose, &update).await.is_success());
    let list = api(app, Method::GET, &messages_url(s.ws), &s.bob, None)
        .await
        .json();
    assert!(
        list["items"][0]["html"]
            .as_str()
            .expect("html")
            .contains("Corrigé")
    );
    let delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note_id}/delete"),
        "type": "Delete",
        "actor": rose.id(),
        "to": [group],
        "object": note_id,
    });
    assert!(deliver(app, &rose, &delete).await.is_success());
    let list = api(app, Method::GET, &messages_url(s.ws), &s.bob, None)
        .await
        .json();
    assert_eq!(list["items"][0]["deleted"], json!(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_from_someone_who_is_not_a_member_is_refused_and_nothing_is_stored() {
    let s = setup().await;
    let app = &s.app;
    remote_member(app, s.ws, "https://one.example", "rose", 0).await;
    let xavier = remote_actor(app, "https://three.example", "xavier", 2).await;
    let group = app.ctx.urls.workspace(&s.ws);
    let status = deliver(
        app,
        &xavier,
        &create_note(&xavier, &group, 1, "<p>spam</p>"),
    )
    .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
        "{status}"
    );
    assert_eq!(rows_in(app, "workspace_messages").await, 0);
    assert_eq!(rows_in(app, "activities").await, 0);
}

// ---------------------------------------------------------------------------------------------
// WebSocket

async fn member_session(ctx: &AppContext, ws: Uuid, username: &str) -> String {
    let account = create_account(
        ctx,
        NewAccountInput {
            username: username.into(),
            email: format!("{username}@example.org"),
            password: PASSWORD.into(),
            kind: "individual".into(),
            role: "member".into(),
            display_name: username.into(),
        },
    )
    .await
    .expect("account");
    add_member(ctx, ws, account.actor_id, "member").await;
    culturecnous::service::sessions::open(ctx, &account, "test")
        .await
        .expect("session")
        .token
}

fn socket_request(
    port: u16,
    ws: Uuid,
    session: Option<&str>,
) -> tungstenite::handshake::client::Request {
    let mut request = format!("ws://localhost:{port}/espaces/{ws}/discussion/ws")
        .into_client_request()
        .expect("request");
    if let Some(token) = session {
        request.headers_mut().insert(
            "cookie",
            format!("session={token}").parse().expect("cookie"),
        );
    }
    request
}

fn refused_with(result: Result<impl std::fmt::Debug, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_socket_needs_a_member_session_and_carries_new_messages() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let config = culturecnous::testing::TestDatabases::get()
        .config(port)
        .await;
    let instance = culturecnous::start_with_listener(config, listener)
        .await
        .expect("start");
    let ctx = instance.ctx.clone();
    let ws = workspace(&ctx, "Atelier").await;
    let ana = member_session(&ctx, ws, "ana").await;
    let bob_session = member_session(&ctx, ws, "bob").await;
    let oscar = member_session(&ctx, workspace(&ctx, "Autre").await, "oscar").await;

    // No session: refused before the upgrade. Not a member, or no such workspace: 404.
    let r = tokio_tungstenite::connect_async(socket_request(port, ws, None)).await;
    assert_eq!(refused_with(r), 401);
    let r = tokio_tungstenite::connect_async(socket_request(port, ws, Some(&oscar))).await;
    assert_eq!(refused_with(r), 404);
    let r =
        tokio_tungstenite::connect_async(socket_request(port, Uuid::new_v4(), Some(&ana))).await;
    assert_eq!(refused_with(r), 404);
    assert_eq!(ctx.chat_hub.open_workspaces(), 0);

    let (mut bob, _) =
        tokio_tungstenite::connect_async(socket_request(port, ws, Some(&bob_session)))
            .await
            .expect("bob's socket");
    let (mut ana_socket, _) =
        tokio_tungstenite::connect_async(socket_request(port, ws, Some(&ana)))
            .await
            .expect("ana's socket");

    // Posted through the API: bob's page receives it.
    let token = culturecnous::service::tokens::create_token(&ctx, "ana", "tests")
        .await
        .expect("token");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let r = client
        .post(format!(
            "http://localhost:{port}/api/v1/workspaces/{ws}/messages"
        ))
        .bearer_auth(&token)
        .json(&json!({"body": "Le décor arrive **lundi**"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.expect("json");
    let frame = next_json(&mut bob).await;
    assert_eq!(frame["type"], json!("message"));
    assert_eq!(frame["id"], created["id"]);
    assert_eq!(frame["seq"], created["seq"]);
    assert_eq!(frame["author"], json!("ana"));
    assert!(
        frame["html"]
            .as_str()
            .expect("html")
            .contains("<strong>lundi</strong>")
    );
    assert!(frame["created_at"].is_string());

    // Posted through ana's socket: too long is refused (nothing stored), then a good one.
    let before = count_messages(&ctx).await;
    ana_socket
        .send(tungstenite::Message::Text(
            json!({"type": "post", "body": "x".repeat(10_001)})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
    loop {
        let frame = next_json(&mut ana_socket).await;
        if frame["type"] == json!("error") {
            assert_eq!(frame["field"], json!("body"));
            assert_eq!(frame["status"], json!(422));
            break;
        }
    }
    assert_eq!(count_messages(&ctx).await, before);
    ana_socket
        .send(tungstenite::Message::Text(
            json!({"type": "post", "body": "Et le son mardi"})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
    let frame = next_json(&mut bob).await;
    assert_eq!(frame["type"], json!("message"));
    assert!(
        frame["html"]
            .as_str()
            .expect("html")
            .contains("Et le son mardi")
    );

    // Edited and deleted: frames of those kinds.
    let mid = created["id"].as_str().expect("id");
    let r = client
        .patch(format!(
            "http://localhost:{port}/api/v1/workspaces/{ws}/messages/{mid}"
        ))
        .bearer_auth(&token)
        .json(&json!({"body": "Le décor arrive mardi"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status().as_u16(), 200);
    let frame = next_json(&mut bob).await;
    assert_eq!(frame["type"], json!("edited"));
    assert_eq!(frame["id"], created["id"]);
    let r = client
        .delete(format!(
            "http://localhost:{port}/api/v1/workspaces/{ws}/messages/{mid}"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 204);
    let frame = next_json(&mut bob).await;
    assert_eq!(frame["type"], json!("deleted"));
    assert_eq!(frame["html"], json!(""));

    drop(bob);
    drop(ana_socket);
    instance.shutdown().await;
}

async fn count_messages(ctx: &AppContext) -> i64 {
    use culturecnous::db::schema::workspace_messages;
    let mut conn = ctx.conn().await.expect("conn");
    workspace_messages::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

/// The next text frame of a socket, as JSON (pings skipped).
async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures::Stream<Item = Result<tungstenite::Message, tungstenite::Error>> + Unpin,
{
    loop {
        // A guard against a test that would otherwise wait forever, not a timing assertion.
        let next = tokio::time::timeout(std::time::Duration::from_secs(60), socket.next())
            .await
            .expect("a frame within a minute");
        match next {
            Some(Ok(tungstenite::Message::Text(text))) => {
                return serde_json::from_str(text.as_str()).expect("JSON frame");
            }
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}
