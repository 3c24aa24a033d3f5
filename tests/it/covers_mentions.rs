//! Cover images and mentions of posts and announcements (issue 4): the form upload (alt text
//! required, bytes checked by signature, size limit, replace and remove, files cleaned up), the
//! API upload, the federated Article/Note (`image`, `attachment` with the alt text as `name`),
//! the page's `<img alt>`, long accented bodies through the form (422 on `body`, never 413),
//! and mentions resolved locally and by WebFinger (link, `Mention` tag, `cc`, delivery).

use crate::{
    common::TestApp,
    federation_inbox::KEYS,
    helpers::{
        AP, Browser, Part, api, call, error_fields, local_actor, multipart, path_of, post_row,
        queued, remote_follower, rows_in, token,
    },
};
use axum::{
    Json, Router,
    body::Body,
    extract::{Path, Query},
    http::{Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

/// A valid PNG of `width`×1 grey pixels, built here (signature, IHDR, IDAT, IEND) so the test
/// needs no image file; `padding` extra bytes after IEND make it as heavy as wanted.
pub fn png(width: u32, padding: usize) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in bytes {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        (b << 16) | a
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    chunk(&mut out, b"IHDR", &ihdr);
    // One scanline: filter byte 0 then the pixels, in a stored (uncompressed) deflate block.
    let mut raw = vec![0u8];
    raw.extend(std::iter::repeat_n(0x80u8, width as usize));
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out.extend(std::iter::repeat_n(0u8, padding));
    out
}

const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// The file names in the cover folder.
fn cover_files(app: &TestApp) -> Vec<String> {
    let dir = app.ctx.media_dir.join("covers");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The id in a `/posts/{id}/{slug}` or `/announcements/{id}/{slug}` location.
fn id_in(location: &str) -> i64 {
    location
        .split('/')
        .find_map(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {location}"))
}

/// A member `username`, with a session open in a browser.
async fn member<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let account = app.create_user(username, "member").await;
    Browser::with_session(app, &account).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cover_uploaded_with_the_form_is_shown_with_its_alt_and_federated() {
    let app = TestApp::new().await;
    let alice = member(&app, "alice").await;
    let image = png(3, 0);
    let r = alice
        .submit_multipart(
            "/articles/nouveau",
            vec![
                Part::Text("title", "Soirée de clôture".into()),
                Part::Text("body", "La troupe a joué devant 300 personnes.".into()),
                Part::png("cover_image", "scene.png", image.clone()),
                Part::Text(
                    "cover_image_alt",
                    "La troupe salue, \"rideau\" rouge".into(),
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = path_of(r.header("location").expect("location"));
    let id = id_in(&location);
    let files = cover_files(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(".png"), "{files:?}");

    // The page shows the image with its alt text (escaped).
    let page = alice.get(&location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let media = format!("/media/covers/{}", files[0]);
    assert!(
        page.body.contains(&format!(
            r#"<img class="u-photo" src="{media}" alt="La troupe salue, &#34;rideau&#34; rouge">"#
        )),
        "{}",
        page.body
    );
    // Served back with the type found in its bytes.
    let served = app.get(&media, "image/*").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(served.body.len(), String::from_utf8_lossy(&image).len());
    assert_eq!(
        app.get("/media/covers/..%2Fsecret.png", "image/*")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The Article carries `image` and a Document attachment named by the alt text.
    let article = app.get(&format!("/posts/{id}"), AP).await.json();
    let url = format!("http://localhost:8080{media}");
    assert_eq!(article["image"]["type"], "Image", "{article}");
    assert_eq!(article["image"]["url"], url.as_str());
    assert_eq!(
        article["image"]["name"],
        "La troupe salue, \"rideau\" rouge"
    );
    let attachment = &article["attachment"][0];
    assert_eq!(attachment["type"], "Document", "{article}");
    assert_eq!(attachment["mediaType"], "image/png");
    assert_eq!(attachment["url"], url.as_str());
    assert_eq!(attachment["name"], "La troupe salue, \"rideau\" rouge");
    let created = queued(&app, "Create").await;
    assert_eq!(
        created[0].0["object"]["attachment"][0]["name"],
        "La troupe salue, \"rideau\" rouge"
    );

    // The API gives `cover_image: {url, alt}`.
    let t = token(&app, "alice").await;
    let detail = api(&app, Method::GET, &format!("/api/v1/posts/{id}"), &t, None).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.json()["cover_image"]["url"], url.as_str());
    assert_eq!(
        detail.json()["cover_image"]["alt"],
        "La troupe salue, \"rideau\" rouge"
    );

    // The form itself is multipart, with the file tied to its hint.
    let form = alice.get("/annonces/nouvelle").await;
    assert!(form.body.contains(r#"enctype="multipart/form-data""#));
    assert!(
        form.body
            .contains(r#"aria-describedby="f-cover_image-hint""#)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cover_needs_alt_text_and_real_image_bytes_within_the_limit() {
    let app = TestApp::with_config(|c| c.storage.max_cover_kb = 1).await;
    let alice = member(&app, "alice").await;
    let base = |extra: Vec<Part<'static>>| {
        let mut parts = vec![
            Part::Text("title", "Appel".into()),
            Part::Text("body", "Texte".into()),
            Part::Text("kind", "appel_a_projets".into()),
        ];
        parts.extend(extra);
        parts
    };
    // No alt text.
    let r = alice
        .submit_multipart(
            "/annonces/nouvelle",
            base(vec![
                Part::png("cover_image", "a.png", png(2, 0)),
                Part::Text("cover_image_alt", "   ".into()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(r#"id="f-cover_image_alt-error""#),
        "{}",
        r.body
    );
    // Not an image, whatever its name says.
    let r = alice
        .submit_multipart(
            "/annonces/nouvelle",
            base(vec![
                Part::png(
                    "cover_image",
                    "photo.png",
                    b"<svg onload=alert(1)>".to_vec(),
                ),
                Part::Text("cover_image_alt", "Une photo".into()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains(r#"id="f-cover_image-error""#), "{}", r.body);
    assert!(r.body.contains("PNG, JPEG, GIF ou WebP"), "{}", r.body);
    // Over the configured limit (1 KiB here) but well within the route limit: 422, not 413.
    let r = alice
        .submit_multipart(
            "/annonces/nouvelle",
            base(vec![
                Part::png("cover_image", "big.png", png(2, 1024)),
                Part::Text("cover_image_alt", "Une photo".into()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains(r#"id="f-cover_image-error""#), "{}", r.body);
    assert!(r.body.contains("trop lourde"), "{}", r.body);
    assert_eq!(rows_in(&app, "posts").await, 0);
    assert!(cover_files(&app).is_empty(), "{:?}", cover_files(&app));
    // Without the CSRF token, the multipart form is refused too.
    let (content_type, body) = multipart(base(vec![]));
    let r = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/annonces/nouvelle")
                .header(header::COOKIE, alice.cookie_header())
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Within the limit: accepted.
    let r = alice
        .submit_multipart(
            "/annonces/nouvelle",
            base(vec![
                Part::png("cover_image", "ok.png", png(2, 500)),
                Part::Text("cover_image_alt", "Une photo".into()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(cover_files(&app).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn editing_replaces_the_cover_file_and_the_checkbox_removes_it() {
    let app = TestApp::new().await;
    let alice = member(&app, "alice").await;
    let r = alice
        .submit_multipart(
            "/annonces/nouvelle",
            vec![
                Part::Text("title", "Résidence".into()),
                Part::Text("body", "Deux semaines au plateau.".into()),
                Part::Text("kind", "residence".into()),
                Part::png("cover_image", "a.png", png(4, 0)),
                Part::Text("cover_image_alt", "Le plateau vide".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = id_in(r.header("location").expect("location"));
    let first = cover_files(&app);
    assert_eq!(first.len(), 1);
    let edit = format!("/announcements/{id}/modifier");
    let fields = |extra: Vec<Part<'static>>| {
        let mut parts = vec![
            Part::Text("title", "Résidence".into()),
            Part::Text("body", "Deux semaines au plateau.".into()),
            Part::Text("kind", "residence".into()),
        ];
        parts.extend(extra);
        parts
    };
    // The edit form shows the current image and the remove checkbox.
    let form = alice.get(&edit).await;
    assert!(form.body.contains(&first[0]), "{}", form.body);
    assert!(form.body.contains(r#"name="remove_cover_image""#));
    assert!(form.body.contains(r#"value="Le plateau vide""#));
    // Keeping the image but emptying its alt text is refused; nothing changes.
    let r = alice
        .submit_multipart(
            &edit,
            fields(vec![
                Part::png("cover_image", "", Vec::new()),
                Part::Text("cover_image_alt", String::new()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(cover_files(&app), first);
    // A new image replaces the old file.
    let r = alice
        .submit_multipart(
            &edit,
            fields(vec![
                Part::png("cover_image", "b.gif", GIF.to_vec()),
                Part::Text("cover_image_alt", "Le plateau éclairé".into()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let second = cover_files(&app);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(second, first);
    assert!(second[0].ends_with(".gif"));
    let row = post_row(&app, id).await;
    assert_eq!(row.cover_image_alt.as_deref(), Some("Le plateau éclairé"));
    // The Update carries the new attachment (a Note: Document, as Mastodon sends media).
    let updates = queued(&app, "Update").await;
    let note = &updates.last().expect("update").0["object"];
    assert_eq!(note["type"], "Note");
    assert_eq!(note["attachment"][0]["type"], "Document");
    assert_eq!(note["attachment"][0]["mediaType"], "image/gif");
    assert_eq!(note["attachment"][0]["name"], "Le plateau éclairé");
    // "Retirer l'image" removes it, file included.
    let r = alice
        .submit_multipart(
            &edit,
            fields(vec![
                Part::Text("remove_cover_image", "on".into()),
                Part::Text("cover_image_alt", "Le plateau éclairé".into()),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(cover_files(&app).is_empty());
    let row = post_row(&app, id).await;
    assert_eq!(row.cover_image_path, None);
    assert_eq!(row.cover_image_alt, None);
    let note = app.get(&format!("/announcements/{id}"), AP).await.json();
    assert_eq!(note["attachment"], json!([]), "{note}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_puts_and_deletes_covers() {
    let app = TestApp::with_config(|c| c.storage.max_cover_kb = 1).await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let t = token(&app, "alice").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/posts",
        &t,
        Some(json!({"title": "Atelier", "body": "Ouvert à tous."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().expect("id");
    let uri = format!("/api/v1/posts/{id}/cover");
    let put = |parts: Vec<Part<'static>>| Some(multipart(parts));

    let r = call(
        &app,
        Method::PUT,
        &uri,
        Some(&t),
        put(vec![Part::png("file", "x.png", png(2, 0))]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["alt"]);
    let r = call(
        &app,
        Method::PUT,
        &uri,
        Some(&t),
        put(vec![
            Part::png("file", "x.png", b"GIF8 not really".to_vec()),
            Part::Text("alt", "Atelier".into()),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["file"]);
    let r = call(
        &app,
        Method::PUT,
        &uri,
        Some(&t),
        put(vec![
            Part::png("file", "x.png", png(2, 2000)),
            Part::Text("alt", "Atelier".into()),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["file"]);
    assert!(cover_files(&app).is_empty());
    // Someone else's post: 403, nothing written.
    let tb = token(&app, "bob").await;
    let r = call(
        &app,
        Method::PUT,
        &uri,
        Some(&tb),
        put(vec![
            Part::png("file", "x.png", png(2, 0)),
            Part::Text("alt", "Atelier".into()),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(cover_files(&app).is_empty());

    let r = call(
        &app,
        Method::PUT,
        &uri,
        Some(&t),
        put(vec![
            Part::png("file", "x.png", png(2, 0)),
            Part::Text("alt", "Les mains dans la terre".into()),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let url = r.json()["url"].as_str().expect("url").to_string();
    let file = cover_files(&app);
    assert!(url.ends_with(&file[0]), "{url} {file:?}");
    assert_eq!(
        app.get(&path_of(&url), "image/*").await.status,
        StatusCode::OK
    );
    let detail = api(&app, Method::GET, &format!("/api/v1/posts/{id}"), &t, None).await;
    assert_eq!(
        detail.json()["cover_image"]["alt"],
        "Les mains dans la terre"
    );
    // A published post's new cover is federated as an Update.
    let updates = queued(&app, "Update").await;
    assert_eq!(
        updates.last().expect("update").0["object"]["image"]["url"],
        url.as_str()
    );

    let r = api(&app, Method::DELETE, &uri, &t, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(cover_files(&app).is_empty());
    let detail = api(&app, Method::GET, &format!("/api/v1/posts/{id}"), &t, None).await;
    assert_eq!(detail.json()["cover_image"], Value::Null);
    assert_eq!(
        app.get(&path_of(&url), "image/*").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_of_100_000_accents_fits_the_form_and_one_more_is_a_field_error() {
    let app = TestApp::new().await;
    let alice = member(&app, "alice").await;
    let limit = "é".repeat(100_000);
    let over = "é".repeat(100_001);
    // Urlencoded: 600 000 bytes of body.
    let r = alice
        .submit_form("/articles/nouveau", &[("title", "Long"), ("body", &limit)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = alice
        .submit_form(
            "/articles/nouveau",
            &[("title", "Trop long"), ("body", &over)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(r#"id="f-body-error""#));
    // Multipart, with an image of the largest size allowed (5 MiB by default).
    let max = png(2, 0);
    let padding = 5 * 1024 * 1024 - max.len();
    let r = alice
        .submit_multipart(
            "/articles/nouveau",
            vec![
                Part::Text("title", "Long et illustré".into()),
                Part::Text("body", limit.clone()),
                Part::png("cover_image", "max.png", png(2, padding)),
                Part::Text("cover_image_alt", "Une image lourde".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = alice
        .submit_multipart(
            "/articles/nouveau",
            vec![
                Part::Text("title", "Trop long".into()),
                Part::Text("body", over),
                Part::png("cover_image", "max.png", png(2, padding)),
                Part::Text("cover_image_alt", "Une image lourde".into()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(r#"id="f-body-error""#));
    assert_eq!(rows_in(&app, "posts").await, 2);
    assert_eq!(cover_files(&app).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Mentions

#[derive(serde::Deserialize)]
struct Resource {
    resource: String,
}

/// A remote server that knows one actor, `carol`, by WebFinger and by its document.
async fn fake_remote() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    let actor_base = base.clone();
    let wf_base = base.clone();
    let app = Router::new()
        .route(
            "/.well-known/webfinger",
            get(move |Query(q): Query<Resource>| {
                let base = wf_base.clone();
                async move {
                    if !q.resource.starts_with("acct:carol@") {
                        return axum::http::StatusCode::NOT_FOUND.into_response();
                    }
                    let mut r = Json(json!({
                        "subject": q.resource,
                        "links": [{"rel": "self", "type": AP, "href": format!("{base}/users/carol")}]
                    }))
                    .into_response();
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        "application/jrd+json".parse().expect("ct"),
                    );
                    r
                }
            }),
        )
        .route(
            "/users/{user}",
            get(move |Path(user): Path<String>| {
                let base = actor_base.clone();
                async move {
                    if user != "carol" {
                        return axum::http::StatusCode::NOT_FOUND.into_response();
                    }
                    let id = format!("{base}/users/carol");
                    let doc = json!({
                        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                        "id": id, "type": "Person", "preferredUsername": "carol", "name": "Carol",
                        "url": format!("{base}/@carol"),
                        "inbox": format!("{id}/inbox"), "outbox": format!("{id}/outbox"),
                        "followers": format!("{id}/followers"),
                        "endpoints": {"sharedInbox": format!("{base}/inbox")},
                        "publicKey": {"id": format!("{id}#main-key"), "owner": id,
                                      "publicKeyPem": KEYS[0].public_key},
                    });
                    let mut r: Response = doc.to_string().into_response();
                    r.headers_mut()
                        .insert(header::CONTENT_TYPE, AP.parse().expect("ct"));
                    r
                }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

#[tokio::test(flavor = "multi_thread")]
async fn local_and_remote_mentions_are_linked_tagged_addressed_and_delivered() {
    let remote = fake_remote().await;
    let host = remote.trim_start_matches("http://").to_string();
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let alice_actor = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "f", &alice_actor).await;
    let t = token(&app, "alice").await;
    let body = format!(
        "Merci @bob et @carol@{host} ! Écrivez à contact@lieu.example, pas à @nobody@{host}, \
         ni à @personne. `@bob` en code reste du code."
    );
    let r = api(
        &app,
        Method::POST,
        "/api/v1/posts",
        &t,
        Some(json!({"title": "Merci", "body": body})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().expect("id");
    let carol_id = format!("{remote}/users/carol");

    // Links in the HTML; unknown mentions and code stay text.
    let detail = api(&app, Method::GET, &format!("/api/v1/posts/{id}"), &t, None).await;
    let content = detail.json()["content"]
        .as_str()
        .expect("content")
        .to_string();
    assert!(
        content.contains(&format!(
            r#"<a href="{remote}/@carol" class="u-url mention" rel="nofollow noopener noreferrer">@<span>carol</span></a>"#
        )),
        "{content}"
    );
    assert!(
        content.contains(r#"<a href="http://localhost:8080/users/bob" class="u-url mention""#),
        "{content}"
    );
    assert!(content.contains("@nobody@"), "{content}");
    assert!(content.contains("@personne"), "{content}");
    assert!(content.contains("<code>@bob</code>"), "{content}");
    assert!(content.contains("contact@lieu.example"), "{content}");
    let page = app.get_html(&format!("/posts/{id}")).await;
    assert!(
        page.body.contains(r#"class="u-url mention""#),
        "{}",
        page.body
    );

    // The Article: Mention tags and the mentioned actors in cc.
    let article = app.get(&format!("/posts/{id}"), AP).await.json();
    let tags = article["tag"].as_array().expect("tags");
    let mention = |href: &str| {
        tags.iter()
            .find(|t| t["type"] == "Mention" && t["href"] == href)
            .cloned()
    };
    let carol_tag = mention(&carol_id).unwrap_or_else(|| panic!("carol tag: {article}"));
    assert_eq!(carol_tag["name"], format!("@carol@{host}"));
    let bob_tag = mention("http://localhost:8080/users/bob").expect("bob tag");
    assert_eq!(bob_tag["name"], "@bob@localhost:8080");
    assert_eq!(tags.iter().filter(|t| t["type"] == "Mention").count(), 2);
    let cc = article["cc"].as_array().expect("cc");
    assert!(cc.contains(&json!(carol_id)), "{article}");
    assert!(
        cc.contains(&json!("http://localhost:8080/users/bob")),
        "{article}"
    );

    // The Create goes to the followers' inboxes and to carol's server.
    let created = queued(&app, "Create").await;
    assert_eq!(created.len(), 1);
    let mut expected = vec![
        "http://masto.example/inbox".to_string(),
        format!("{remote}/inbox"),
    ];
    expected.sort();
    assert_eq!(created[0].1, expected);
    assert!(
        created[0].0["cc"]
            .as_array()
            .expect("cc")
            .contains(&json!(carol_id))
    );

    // An edit of the title keeps the mentions without any look-up, and the Update goes to
    // carol too.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/posts/{id}"),
        &t,
        Some(json!({"title": "Merci à tous"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()["content"]
            .as_str()
            .expect("content")
            .contains("@<span>carol</span>")
    );
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    assert!(
        updates[0].1.contains(&format!("{remote}/inbox")),
        "{:?}",
        updates[0].1
    );
    let tags = updates[0].0["object"]["tag"]
        .as_array()
        .expect("tags")
        .clone();
    assert!(
        tags.iter()
            .any(|t| t["type"] == "Mention" && t["href"] == carol_id.as_str())
    );

    // Hashtags stay tags next to the mentions.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/posts/{id}"),
        &t,
        Some(json!({"body": format!("#théâtre avec @carol@{host}")})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let article = app.get(&format!("/posts/{id}"), AP).await.json();
    let kinds: Vec<&str> = article["tag"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    assert_eq!(kinds, vec!["Hashtag", "Mention"], "{article}");
}
