//! Links from other servers that end in an `href` or a `src` on our pages are http(s) or
//! gone: an actor's `url` and avatar, an object's `url`, the links of its content, its
//! attachments. Each is sent with `javascript:`, `data:`, `vbscript:` and scheme-relative
//! values through the real inbox, then read back from the database and from the page.

use crate::{
    common::TestApp,
    federation_inbox::{Remote, remote_actor},
    helpers::{follow, local_actor, path_of},
    inbox_mutations::{adapt, instance, send_checked, sign},
};
use axum::http::StatusCode;
use culturecnous::db::{
    self,
    schema::{comments, posts},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use std::time::SystemTime;

/// What no stored link or rendered page may hold.
const HOSTILE: [&str; 5] = ["javascript:", "vbscript:", "data:", "evil.example", "file:"];

fn assert_clean(what: &str, text: &str) {
    let lower = text.to_ascii_lowercase();
    for bad in HOSTILE {
        assert!(!lower.contains(bad), "{what}: {bad} in {text}");
    }
}

async fn deliver(app: &TestApp, remote: &Remote, activity: &Value, what: &str) {
    let signed = sign(
        remote,
        "/inbox",
        serde_json::to_vec(activity).expect("json"),
        SystemTime::now(),
    );
    let r = send_checked(app, what, signed.with(&signed.standard())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{what}: {}", r.body);
}

/// The page of the post `ap_id`, as HTML.
async fn page_of(app: &TestApp, ap_id: &str) -> String {
    let mut conn = app.ctx.conn().await.expect("conn");
    let post = db::posts::by_ap_id(&mut conn, ap_id)
        .await
        .expect("query")
        .expect("post");
    let url = culturecnous::service::publishing::page_url(&post);
    let path = if url.starts_with('/') {
        url
    } else {
        path_of(&url)
    };
    let page = app.get_html(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body
}

fn update_of(remote: &Remote, n: u32, url: Value, icon: Value) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": format!("{}#updates/{n}", remote.id()),
        "type": "Update",
        "actor": remote.id(),
        "object": {
            "id": remote.id(),
            "type": "Person",
            "preferredUsername": "sender",
            "name": "Sender",
            "summary": "<p><a href=\"javascript:alert(1)\">a</a> <a href=\"//evil.example/x\">b</a></p>",
            "url": url,
            "icon": icon,
            "inbox": format!("{}/inbox", remote.id()),
            "publicKey": {
                "id": remote.key_id,
                "owner": remote.id(),
                "publicKeyPem": crate::federation_inbox::KEYS[0].public_key,
            },
        },
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_actor_url_and_avatar_are_http_or_dropped() {
    let (app, post) = instance().await;
    let remote = remote_actor(&app, "http://links.remote.test:1234", "sender", 0).await;
    let hostile: [(Value, Value); 4] = [
        (
            json!("javascript:alert(1)"),
            json!({"type": "Image", "url": "data:image/svg+xml;base64,PHN2Zz4="}),
        ),
        (json!("vbscript:msgbox(1)"), json!("javascript:alert(2)")),
        (
            json!("data:text/html,<script>alert(1)</script>"),
            json!([{"type": "Image", "url": "file:///etc/passwd"}, "vbscript:x"]),
        ),
        (
            json!("//evil.example/@sender"),
            json!({"url": "//evil.example/a.png"}),
        ),
    ];
    let mut conn = app.ctx.conn().await.expect("conn");
    for (n, (url, icon)) in hostile.into_iter().enumerate() {
        let what = format!("actor links {url} / {icon}");
        deliver(
            &app,
            &remote,
            &update_of(&remote, n as u32, url, icon),
            &what,
        )
        .await;
        let actor = db::actors::by_ap_id(&mut conn, remote.id())
            .await
            .expect("query")
            .expect("actor");
        // Dropped when parsed: what the row keeps is the earlier http(s) value, if any (an
        // absent field does not clear a column).
        for link in [&actor.url, &actor.icon_url].into_iter().flatten() {
            assert_clean(&what, link);
            assert!(link.starts_with("http"), "{what}: {link}");
        }
        assert_clean(&what, &actor.summary_html);
    }
    // Good links are kept: the last usable avatar of a list, the profile page.
    deliver(
        &app,
        &remote,
        &update_of(
            &remote,
            10,
            json!("https://links.example/@sender"),
            json!([{"type": "Image", "url": "javascript:x"}, {"type": "Image", "url": "https://links.example/a.png"}]),
        ),
        "good actor links",
    )
    .await;
    let actor = db::actors::by_ap_id(&mut conn, remote.id())
        .await
        .expect("query")
        .expect("actor");
    assert_eq!(actor.url.as_deref(), Some("https://links.example/@sender"));
    assert_eq!(
        actor.icon_url.as_deref(),
        Some("https://links.example/a.png")
    );

    // Then a hostile actor comments: its links appear nowhere on the page.
    deliver(
        &app,
        &remote,
        &update_of(
            &remote,
            11,
            json!("javascript:alert(1)"),
            json!("data:image/png;base64,AAAA"),
        ),
        "hostile actor again",
    )
    .await;
    let mut reply = adapt("mastodon/activities/create_note.json", &remote, &post);
    reply["object"]["url"] = json!("javascript:alert(3)");
    deliver(&app, &remote, &reply, "reply of the hostile actor").await;
    assert_eq!(
        crate::helpers::rows_in(&app, "comments").await,
        1,
        "the reply is stored"
    );
    assert_clean("post page", &page_of(&app, &post).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn object_urls_content_links_and_attachments_are_http_or_dropped() {
    let (app, post) = instance().await;
    let remote = remote_actor(&app, "http://links.remote.test:1234", "sender", 0).await;
    let content = "<p>Voir <a href=\"javascript:alert(1)\">j</a> <a href=\"//evil.example/x\">s</a> \
        <a href=\"/\\evil.example\">b</a> <a href=\"vbscript:x\">v</a> <a href=\"data:text/html,x\">d</a> \
        <a href=\"file:///etc/passwd\">f</a> <img src=\"//evil.example/p.png\"> \
        <a href=\"https://ok.example/\">ok</a></p>";
    let attachment = json!([
        {"type": "Document", "mediaType": "image/png", "url": "javascript:alert(1)", "name": "a"},
        {"type": "Image", "url": "//evil.example/i.png"},
        {"type": "Link", "href": "data:text/html,x"},
    ]);
    let urls = [
        (json!("javascript:alert(1)"), None),
        (
            json!([
                {"type": "Link", "mediaType": "text/html", "href": "javascript:alert(1)"},
                {"type": "Link", "href": "https://ok.example/n/2"}
            ]),
            Some("https://ok.example/n/2"),
        ),
        (json!({"type": "Link", "href": "//evil.example/n"}), None),
        (json!("vbscript:x"), None),
    ];
    let mut conn = app.ctx.conn().await.expect("conn");
    for (n, (url, kept)) in urls.into_iter().enumerate() {
        let mut reply = adapt("mastodon/activities/create_note.json", &remote, &post);
        let id = format!("{}/statuses/links-{n}", remote.id());
        reply["id"] = json!(format!("{id}/activity"));
        reply["object"]["id"] = json!(id);
        reply["object"]["url"] = url.clone();
        reply["object"]["content"] = json!(content);
        reply["object"]["attachment"] = attachment.clone();
        deliver(&app, &remote, &reply, &format!("reply with url {url}")).await;
        let (stored_url, body): (Option<String>, String) = comments::table
            .filter(comments::ap_id.eq(&id))
            .select((comments::url, comments::body_html))
            .first(&mut conn)
            .await
            .expect("reply stored");
        assert_eq!(stored_url.as_deref(), kept, "url {url}");
        assert_clean("reply body", &body);
        assert!(body.contains("href=\"https://ok.example/\""), "{body}");
    }

    // A post that is no reply, from an actor alice follows: its url too.
    let alice = local_actor(&app, "alice").await;
    follow(&app, &alice, &remote.actor, "accepted").await;
    let mut article = adapt("friendica/activities/create_page_2.json", &remote, &post);
    article["object"]["inReplyTo"] = Value::Null;
    article["object"]["url"] = json!("data:text/html,<script>alert(1)</script>");
    article["object"]["content"] = json!(content);
    article["object"]["attachment"] = attachment;
    article["object"]["image"] = json!({"type": "Image", "url": "javascript:alert(1)"});
    deliver(&app, &remote, &article, "remote post").await;
    let (url, body, ap_id): (Option<String>, String, String) = posts::table
        .filter(posts::local.eq(false))
        .select((posts::url, posts::body_html, posts::ap_id))
        .first(&mut conn)
        .await
        .expect("remote post stored");
    assert_eq!(url, None);
    assert_clean("remote post body", &body);

    // And on the pages.
    assert_clean(
        "announcement page with replies",
        &page_of(&app, &post).await,
    );
    assert_clean("remote post page", &page_of(&app, &ap_id).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn links_stored_before_the_checks_are_cleared_by_the_migration() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    let remote = remote_actor(&app, "http://old.remote.test:1234", "sender", 0).await;
    let other = remote_actor(&app, "http://old.remote.test:1234", "other", 1).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    for (actor, url) in [
        (&remote.actor, "javascript:alert(1)"),
        (&other.actor, "https://old.example/@other"),
    ] {
        diesel::update(culturecnous::db::schema::actors::table.find(actor.id))
            .set((
                culturecnous::db::schema::actors::url.eq(url),
                culturecnous::db::schema::actors::icon_url.eq("//evil.example/a.png"),
            ))
            .execute(&mut conn)
            .await
            .expect("update");
    }
    conn.batch_execute(include_str!(
        "../../migrations/2026-12-04-000201_safe_remote_links/up.sql"
    ))
    .await
    .expect("migration");
    for (actor, url) in [
        (&remote.actor, None),
        (&other.actor, Some("https://old.example/@other")),
    ] {
        let row = db::actors::by_id(&mut conn, actor.id).await.expect("actor");
        assert_eq!(row.url.as_deref(), url);
        assert_eq!(row.icon_url, None);
    }
}
