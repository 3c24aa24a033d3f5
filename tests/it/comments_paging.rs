//! No silent truncation (issue 8): the comments of a post with more than a page of them are
//! all reachable, each once — through the API's cursor (`next_cursor` and the `Link` header)
//! and through the post page's "Commentaires plus anciens / suivants" links — in pages of
//! whole threads, under a heading that gives the total; a comment's link leads to the page
//! that shows it; posts and announcements carry a `replies` collection with `totalItems`,
//! served at `{id}/replies` as a paged `OrderedCollection`; none of them shows the replies of
//! a silenced domain.

use crate::{
    common::{TestApp, TestResponse},
    helpers::{AP, api, create, enc, path_of, remote_actor_row, token},
};
use axum::http::{Method, StatusCode, header};
use chrono::Utc;
use culturecnous::{
    db::{comments::NewComment, schema::comments},
    service::{
        comments::PAGE_COMMENTS,
        domain_blocks::{self, BlockOptions, Severity},
    },
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// Threads (direct replies) in the test post.
const ROOTS: usize = 160;
/// The thread longer than a page.
const BIG_ROOT: usize = 40;
const BIG_REPLIES: usize = PAGE_COMMENTS + 60;
/// A deleted direct reply whose reply is still there (shown as "deleted").
const DELETED_KEPT: usize = 7;
/// A deleted direct reply with nothing below it (not shown at all).
const DELETED_GONE: usize = 9;
/// A thread whose only reply is deleted.
const DELETED_LEAF_IN: usize = 13;
/// The first reply written (to root 1, which has no other): deleted.
const FIRST_REPLY: usize = ROOTS;

/// The comments written under one post, as the test knows them.
struct Written {
    /// Comment id → id of its thread's direct reply.
    root_of: HashMap<i64, i64>,
    /// Direct replies, oldest first.
    roots: Vec<i64>,
    /// Comments not deleted.
    visible: BTreeSet<i64>,
    /// Deleted comments with a reply still below them.
    placeholders: BTreeSet<i64>,
}

/// Writes the threads straight into `comments` (fast): `ROOTS` direct replies; then, with
/// higher ids (later answers to earlier threads), the replies: root `k` gets `k % 4` of
/// them, one nested under another; root `BIG_ROOT` gets `BIG_REPLIES`, some nested; a few
/// are deleted.
async fn write_threads(app: &TestApp, post_id: i64, post_ap_id: &str) -> Written {
    let remote = remote_actor_row(app, "remote.example", "ana", false).await;
    // (index of the parent in `plan`, or None for a direct reply), in id order.
    let mut plan: Vec<Option<usize>> = (0..ROOTS).map(|_| None).collect();
    for k in 0..ROOTS {
        let n = if k == BIG_ROOT {
            BIG_REPLIES
        } else if k == DELETED_KEPT || k == DELETED_LEAF_IN {
            1
        } else if k == DELETED_GONE {
            0
        } else {
            k % 4
        };
        let first = plan.len();
        for r in 0..n {
            // Every third reply answers the previous one, the others the direct reply.
            let parent = if r % 3 == 1 { first + r - 1 } else { k };
            plan.push(Some(parent));
        }
    }
    let mut conn = app.ctx.conn().await.expect("conn");
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let ids: Vec<i64> = diesel::sql_query(format!(
        "SELECT nextval('comments_id_seq') AS id FROM generate_series(1, {})",
        plan.len()
    ))
    .load::<Id>(&mut conn)
    .await
    .expect("ids")
    .into_iter()
    .map(|r| r.id)
    .collect();
    let mut ids = ids;
    ids.sort_unstable();
    let now = Utc::now();
    let rows: Vec<NewComment> = plan
        .iter()
        .enumerate()
        .map(|(i, parent)| NewComment {
            id: ids[i],
            ap_id: format!("http://remote.example/notes/{}", ids[i]),
            post_id,
            parent_id: parent.map(|p| ids[p]),
            in_reply_to: parent.map_or(post_ap_id.to_string(), |p| {
                format!("http://remote.example/notes/{}", ids[p])
            }),
            author_actor_id: remote.id,
            account_id: None,
            body_markdown: None,
            body_html: format!("<p>Réponse {i}</p>"),
            url: None,
            published_at: now,
            content_warning: None,
            mentions: json!([]),
        })
        .collect();
    for chunk in rows.chunks(500) {
        diesel::insert_into(comments::table)
            .values(chunk)
            .execute(&mut conn)
            .await
            .expect("insert comments");
    }
    let deleted: Vec<i64> = [DELETED_KEPT, DELETED_GONE, FIRST_REPLY]
        .into_iter()
        .map(|i| ids[i])
        .chain(
            // The reply of DELETED_LEAF_IN.
            plan.iter()
                .position(|p| *p == Some(DELETED_LEAF_IN))
                .map(|i| ids[i]),
        )
        .collect();
    diesel::update(comments::table.filter(comments::id.eq_any(&deleted)))
        .set(comments::deleted_at.eq(now))
        .execute(&mut conn)
        .await
        .expect("delete some");

    let mut root_of = HashMap::new();
    for (i, parent) in plan.iter().enumerate() {
        let root = match parent {
            None => ids[i],
            Some(p) => root_of[&ids[*p]],
        };
        root_of.insert(ids[i], root);
    }
    let visible: BTreeSet<i64> = ids
        .iter()
        .copied()
        .filter(|id| !deleted.contains(id))
        .collect();
    let placeholders = deleted
        .iter()
        .copied()
        .filter(|d| {
            plan.iter()
                .enumerate()
                .any(|(i, p)| p.is_some_and(|p| ids[p] == *d) && visible.contains(&ids[i]))
        })
        .collect();
    Written {
        root_of,
        roots: ids[..ROOTS].to_vec(),
        visible,
        placeholders,
    }
}

/// An announcement by a new member with the threads of [`write_threads`] under it: its API
/// answer (`{id, url, ap_id}`), the token, and the threads.
async fn crowded_announcement(app: &TestApp) -> (Value, String, Written) {
    app.create_user("auteur", "member").await;
    let token = token(app, "auteur").await;
    let created = create(
        app,
        &token,
        "/api/v1/announcements",
        json!({"title": "Résidence d'été", "body": "Appel ouvert.", "kind": "residence"}),
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let ap_id = created["ap_id"].as_str().expect("ap_id").to_string();
    let written = write_threads(app, id, &ap_id).await;
    (created, token, written)
}

/// The `<…>` of a `Link: <…>; rel="next"` header, as a path of the instance.
fn next_link(r: &TestResponse) -> Option<String> {
    let link = r.header("link")?;
    let (url, rel) = link.split_once(';')?;
    assert_eq!(rel.trim(), "rel=\"next\"", "{link}");
    Some(path_of(
        url.trim()
            .strip_prefix('<')
            .and_then(|u| u.strip_suffix('>'))
            .unwrap_or_else(|| panic!("not <URL>: {link}")),
    ))
}

/// Asserts that each thread met in `pages` (lists of comment ids) lies on one page only.
fn threads_whole(written: &Written, pages: &[Vec<i64>]) {
    let mut page_of_root: HashMap<i64, usize> = HashMap::new();
    for (n, page) in pages.iter().enumerate() {
        for id in page {
            let root = written.root_of[id];
            let first = *page_of_root.entry(root).or_insert(n);
            assert_eq!(first, n, "thread {root} split across pages {first} and {n}");
        }
    }
}

/// Asserts that `seen` holds each of `expected` exactly once.
fn each_once(seen: &[i64], expected: &BTreeSet<i64>) {
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "some comments came twice");
    assert_eq!(&unique, expected, "not every comment was reachable");
}

#[tokio::test]
async fn the_api_cursor_reaches_every_comment_once_in_pages_of_whole_threads() {
    let app = TestApp::new().await;
    let (created, token, written) = crowded_announcement(&app).await;
    let ap_id = created["ap_id"].as_str().expect("ap_id");
    let total = written.visible.len();
    assert!(total > 2 * PAGE_COMMENTS, "the test needs several pages");

    let mut path = format!("/api/v1/comments?object={}", enc(ap_id));
    let mut pages: Vec<Vec<i64>> = Vec::new();
    loop {
        let r = api(&app, Method::GET, &path, &token, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let body = r.json();
        assert_eq!(body["total"], total, "{path}");
        let ids: Vec<i64> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_i64().expect("id"))
            .collect();
        assert!(!ids.is_empty(), "{path}: an empty page");
        let is_big = ids
            .iter()
            .any(|id| written.root_of[id] == written.roots[BIG_ROOT]);
        if is_big {
            // The thread longer than a page fills a page alone.
            assert!(
                ids.iter()
                    .all(|id| written.root_of[id] == written.roots[BIG_ROOT]),
                "{path}: the long thread shares its page"
            );
        } else {
            assert!(ids.len() <= PAGE_COMMENTS, "{path}: {} comments", ids.len());
        }
        pages.push(ids);
        let link = next_link(&r);
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                let next = link.unwrap_or_else(|| panic!("{path}: next_cursor but no Link"));
                assert!(
                    next.ends_with(&format!("&cursor={}", enc(cursor))),
                    "{next}"
                );
                assert!(next.contains(&format!("object={}", enc(ap_id))), "{next}");
                path = next;
            }
            None => {
                assert_eq!(link, None, "{path}: a Link on the last page");
                assert!(body["next_cursor"].is_null(), "{body}");
                break;
            }
        }
        assert!(pages.len() < 50, "the cursor never ends");
    }
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let seen: Vec<i64> = pages.iter().flatten().copied().collect();
    each_once(&seen, &written.visible);
    threads_whole(&written, &pages);

    // A comment's `url` names the page of the post's page that shows it.
    let last = api(&app, Method::GET, &path, &token, None).await.json();
    let url = last["items"][0]["url"].as_str().expect("url");
    assert!(
        url.contains(&format!("?page={}#comment-", pages.len())),
        "{url}"
    );

    // A cursor this API did not give is refused, naming the field.
    for bad in ["abc", "-3", "0", "1.5"] {
        let r = api(
            &app,
            Method::GET,
            &format!("/api/v1/comments?object={}&cursor={bad}", enc(ap_id)),
            &token,
            None,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
        assert_eq!(r.json()["errors"][0]["field"], "cursor", "{}", r.body);
    }
    // A post with few comments: one page, no Link, no cursor.
    let small = create(
        &app,
        &token,
        "/api/v1/posts",
        json!({"title": "Calme", "body": "Rien à signaler."}),
    )
    .await;
    create(
        &app,
        &token,
        "/api/v1/comments",
        json!({"in_reply_to": small["ap_id"], "body": "Un seul."}),
    )
    .await;
    let r = api(
        &app,
        Method::GET,
        &format!(
            "/api/v1/comments?object={}",
            enc(small["ap_id"].as_str().expect("ap_id"))
        ),
        &token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("link"), None);
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(1));
    assert!(r.json()["next_cursor"].is_null());
}

/// The `href` of the link with `rel` in the comments' page navigation, if any.
fn nav_link(html: &str, rel: &str) -> Option<String> {
    let nav = &html[html.find("class=\"pagination comment-pages\"")?..];
    let nav = &nav[..nav.find("</nav>").expect("nav closed")];
    let at = nav.find(&format!("rel=\"{rel}\""))?;
    let before = &nav[..at];
    let href = &before[before.rfind("href=\"")? + 6..];
    Some(href[..href.find('"').expect("href closed")].to_string())
}

/// The ids of the comments (`<li id="comment-…">`) of a page.
fn comment_ids(html: &str) -> Vec<i64> {
    html.match_indices("<li id=\"comment-")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"').expect("id closed")]
                .parse()
                .expect("comment id")
        })
        .collect()
}

#[tokio::test]
async fn the_post_page_pages_whole_threads_with_links_and_the_total_in_its_heading() {
    let app = TestApp::new().await;
    let (created, _, written) = crowded_announcement(&app).await;
    let page_path = path_of(created["url"].as_str().expect("url"));
    let total = written.visible.len();
    let heading = format!(">Commentaires ({total})</h2>");

    let mut path = page_path.clone();
    let mut pages: Vec<Vec<i64>> = Vec::new();
    loop {
        let r = app.get_html(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert!(r.body.contains(&heading), "{path}: no {heading}");
        let n = pages.len() + 1;
        assert!(
            r.body.contains(&format!("Page {n} sur ")),
            "{path}: the page does not say it is page {n}"
        );
        let older = nav_link(&r.body, "prev");
        if n == 1 {
            assert_eq!(older, None, "{path}: older comments before the first page");
        } else {
            let older = older.unwrap_or_else(|| panic!("{path}: no link to older comments"));
            assert!(r.body.contains("Commentaires plus anciens"), "{path}");
            let expected = if n == 2 {
                format!("{page_path}#commentaires")
            } else {
                format!("{page_path}?page={}#commentaires", n - 1)
            };
            assert_eq!(older, expected);
        }
        pages.push(comment_ids(&r.body));
        match nav_link(&r.body, "next") {
            Some(next) => {
                assert!(r.body.contains("Commentaires suivants"), "{path}");
                assert_eq!(next, format!("{page_path}?page={}#commentaires", n + 1));
                path = next.split('#').next().unwrap_or_default().to_string();
            }
            None => break,
        }
        assert!(pages.len() < 50, "the pages never end");
    }
    assert!(pages.len() >= 3, "{} pages", pages.len());
    // Every comment once, the deleted ones with a reply below shown as deleted, once.
    let seen: Vec<i64> = pages.iter().flatten().copied().collect();
    let mut expected = written.visible.clone();
    expected.extend(written.placeholders.iter().copied());
    each_once(&seen, &expected);
    threads_whole(&written, &pages);

    // Nonsense is page 1; past the end, the last page.
    let first = app.get_html(&format!("{page_path}?page=abc")).await;
    assert_eq!(comment_ids(&first.body), pages[0]);
    let beyond = app.get_html(&format!("{page_path}?page=999")).await;
    assert_eq!(beyond.status, StatusCode::OK);
    assert_eq!(comment_ids(&beyond.body), pages[pages.len() - 1]);

    // A comment's own URL leads to the page that shows it.
    let (n, id) = pages
        .iter()
        .enumerate()
        .skip(2)
        .find_map(|(n, p)| p.iter().next().map(|id| (n + 1, *id)))
        .expect("a comment on page 3");
    let r = app.get_html(&format!("/comments/{id}")).await;
    assert!(r.status.is_redirection(), "{}", r.status);
    assert_eq!(
        r.header("location"),
        Some(format!("{page_path}?page={n}#comment-{id}").as_str())
    );
}

/// The `replies` collection at `{ap_id}/replies`, walked page by page: its `totalItems` and
/// the ids of every page.
async fn replies(app: &TestApp, ap_id: &str) -> (i64, Vec<String>) {
    let url = format!("{ap_id}/replies");
    let r = app.get(&path_of(&url), AP).await;
    assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.body);
    assert_eq!(r.header("content-type"), Some(AP), "{url}");
    assert_eq!(r.header("vary"), Some("Accept"), "{url}");
    let body = r.json();
    assert_eq!(body["type"], "OrderedCollection", "{body}");
    assert_eq!(body["id"], url.as_str(), "{body}");
    let total = body["totalItems"].as_i64().expect("totalItems");
    let mut next = body["first"].as_str().map(str::to_string);
    let mut items = Vec::new();
    while let Some(page) = next {
        let r = app.get(&path_of(&page), AP).await;
        assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
        let body = r.json();
        assert_eq!(body["type"], "OrderedCollectionPage", "{body}");
        assert_eq!(body["partOf"], url.as_str(), "{body}");
        items.extend(
            body["orderedItems"]
                .as_array()
                .expect("orderedItems")
                .iter()
                .map(|i| i.as_str().expect("an id").to_string()),
        );
        next = body["next"].as_str().map(str::to_string);
        assert!(items.len() <= 10_000, "the pages never end");
    }
    (total, items)
}

#[tokio::test]
async fn posts_and_announcements_carry_a_replies_collection_with_its_total() {
    let app = TestApp::new().await;
    let (created, token, written) = crowded_announcement(&app).await;
    let ap_id = created["ap_id"].as_str().expect("ap_id");
    // Direct replies not deleted.
    let direct: Vec<String> = written
        .roots
        .iter()
        .filter(|id| written.visible.contains(id))
        .map(|id| format!("http://remote.example/notes/{id}"))
        .collect();
    assert!(direct.len() > 40, "more than a page of replies");

    let object = app.get(&path_of(ap_id), AP).await;
    assert_eq!(object.status, StatusCode::OK, "{}", object.body);
    let object = object.json();
    assert_eq!(
        object["replies"],
        json!({
            "id": format!("{ap_id}/replies"),
            "type": "OrderedCollection",
            "totalItems": direct.len(),
            "first": format!("{ap_id}/replies?page=1"),
        }),
        "{object}"
    );
    let (total, items) = replies(&app, ap_id).await;
    assert_eq!(total, i64::try_from(direct.len()).expect("small"));
    assert_eq!(items, direct, "every direct reply once, oldest first");

    // The replies of a silenced domain are public nowhere: not in the collection, its count,
    // the API's pages nor the total.
    domain_blocks::block(
        &app.ctx,
        "remote.example",
        Severity::Silence,
        &BlockOptions::default(),
    )
    .await
    .expect("silence");
    assert_eq!(replies(&app, ap_id).await, (0, Vec::new()));
    let object = app.get(&path_of(ap_id), AP).await.json();
    assert_eq!(object["replies"]["totalItems"], 0, "{object}");
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/comments?object={}", enc(ap_id)),
        &token,
        None,
    )
    .await;
    assert_eq!(r.json()["total"], 0, "{}", r.body);
    assert_eq!(r.header("link"), None);

    // A blog post too (an Article), counting its replies as they come and go.
    let post = create(
        &app,
        &token,
        "/api/v1/posts",
        json!({"title": "Carnet de tournée", "body": "Jour 1."}),
    )
    .await;
    let post_ap_id = post["ap_id"].as_str().expect("ap_id");
    let article = app.get(&path_of(post_ap_id), AP).await.json();
    assert_eq!(article["type"], "Article");
    assert_eq!(article["replies"]["totalItems"], 0, "{article}");
    let comment = create(
        &app,
        &token,
        "/api/v1/comments",
        json!({"in_reply_to": post_ap_id, "body": "Bravo !"}),
    )
    .await;
    let reply = create(
        &app,
        &token,
        "/api/v1/comments",
        json!({"in_reply_to": comment["ap_id"], "body": "Merci."}),
    )
    .await;
    // A reply to a comment is not a direct reply of the post.
    let (total, items) = replies(&app, post_ap_id).await;
    assert_eq!(total, 1);
    assert_eq!(items, [comment["ap_id"].as_str().expect("ap_id")]);
    let article = app.get(&path_of(post_ap_id), AP).await.json();
    assert_eq!(article["replies"]["totalItems"], 1, "{article}");
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/comments/{}", comment["id"]),
        &token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let _ = reply;
    assert_eq!(replies(&app, post_ap_id).await, (0, Vec::new()));

    // A browser is sent to the comments; drafts are 404, deleted posts 410.
    let r = app
        .get_html(&path_of(&format!("{post_ap_id}/replies")))
        .await;
    assert!(r.status.is_redirection(), "{}", r.status);
    assert!(
        r.header(header::LOCATION.as_str())
            .is_some_and(|l| l.ends_with("#commentaires")),
        "{:?}",
        r.header("location")
    );
    let draft = create(
        &app,
        &token,
        "/api/v1/posts",
        json!({"title": "Brouillon", "body": "Pas encore.", "draft": true}),
    )
    .await;
    let r = app
        .get(&format!("/posts/{}/replies", draft["id"]), AP)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/posts/{}", post["id"]),
        &token,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app
        .get(&path_of(&format!("{post_ap_id}/replies")), AP)
        .await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    let r = app.get("/posts/999999/replies?page=x", AP).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}
