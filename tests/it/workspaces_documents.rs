//! Documents of workspaces (issue 12, item 3) through the JSON API and the pages: upload and
//! download round trip with the protective headers, versions kept on a second upload of the
//! same name, the issue's bad inputs refused with nothing written, the same 404 for outsiders
//! and anonymous clients on every documents URL, and deletion rights.

use crate::{
    common::TestApp,
    helpers::{Browser, Part, call, error_fields, multipart, token},
};
use axum::http::{Method, StatusCode};
use culturecnous::db::{
    accounts::DbAccount,
    schema::{workspace_document_versions, workspace_documents},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

/// A tiny but well-formed PDF (plain ASCII, so the test response body compares as text).
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn new_app(max_upload_mb: u64) -> TestApp {
    let app = TestApp::with_config(|c| c.storage.max_upload_mb = max_upload_mb).await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    app
}

async fn user(app: &TestApp, name: &str) -> (DbAccount, String) {
    let account = app.create_user(name, "member").await;
    let token = token(app, name).await;
    (account, token)
}

async fn workspace(app: &TestApp, owner: &DbAccount) -> Uuid {
    crate::helpers::new_workspace(&app.ctx, owner, "Résidence aux Charmilles", false)
        .await
        .id
}

async fn add_member(app: &TestApp, id: Uuid, account: &DbAccount, role: &str) {
    crate::helpers::add_workspace_member(&app.ctx, id, account.actor_id, role).await;
}

fn file(file_name: &str, bytes: &[u8]) -> Part<'static> {
    Part::File {
        name: "file",
        file_name: Box::leak(file_name.to_string().into_boxed_str()),
        content_type: "application/octet-stream",
        bytes: bytes.to_vec(),
    }
}

async fn upload(
    app: &TestApp,
    ws: Uuid,
    token: Option<&str>,
    part: Part<'_>,
) -> crate::common::TestResponse {
    call(
        app,
        Method::POST,
        &format!("/api/v1/workspaces/{ws}/documents"),
        token,
        Some(multipart(vec![part])),
    )
    .await
}

/// (documents, versions) rows.
async fn counts(app: &TestApp) -> (i64, i64) {
    let mut conn = app.ctx.conn().await.expect("conn");
    let d = workspace_documents::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("documents");
    let v = workspace_document_versions::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("versions");
    (d, v)
}

/// Files in the local store.
fn stored_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .map(|e| {
                let p = e.path();
                if p.is_dir() { walk(&p) } else { 1 }
            })
            .sum()
    }
    walk(&app.ctx.config.storage.data_dir.join("files"))
}

fn path_of(url: &str) -> String {
    crate::helpers::path_of(url)
}

#[tokio::test]
async fn upload_download_round_trip_and_versions() {
    let app = new_app(2).await;
    let (lea, lea_token) = user(&app, "lea").await;
    let ws = workspace(&app, &lea).await;

    let r = upload(&app, ws, Some(&lea_token), file("programme.pdf", PDF)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = r.json();
    assert_eq!(first["version"], 1);
    let doc = first["id"].as_str().expect("id").to_string();
    let v1_url = path_of(first["download_url"].as_str().expect("url"));
    assert_eq!(stored_files(&app), 1);

    let got = call(&app, Method::GET, &v1_url, Some(&lea_token), None).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body.as_bytes(), PDF);
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    let disposition = got.header("content-disposition").expect("disposition");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("programme.pdf"), "{disposition}");
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));

    // The same name again: version 2 of the same document, version 1 still there.
    let second_pdf = [PDF, b"% v2\n"].concat();
    let r = upload(
        &app,
        ws,
        Some(&lea_token),
        file("programme.pdf", &second_pdf),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = r.json();
    assert_eq!(second["version"], 2);
    assert_eq!(second["id"].as_str(), Some(doc.as_str()));
    assert_eq!(counts(&app).await, (1, 2));
    assert_eq!(stored_files(&app), 2);

    let got = call(&app, Method::GET, &v1_url, Some(&lea_token), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_bytes(), PDF);
    let v2_url = path_of(second["download_url"].as_str().expect("url"));
    let got = call(&app, Method::GET, &v2_url, Some(&lea_token), None).await;
    assert_eq!(got.body.as_bytes(), second_pdf.as_slice());

    let detail = call(
        &app,
        Method::GET,
        &format!("/api/v1/workspaces/{ws}/documents/{doc}"),
        Some(&lea_token),
        None,
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    let versions = detail.json()["versions"]
        .as_array()
        .expect("versions")
        .clone();
    let numbers: Vec<i64> = versions
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(numbers, vec![2, 1]);
    assert_eq!(versions[0]["uploader"], "lea");

    let list = call(
        &app,
        Method::GET,
        &format!("/api/v1/workspaces/{ws}/documents"),
        Some(&lea_token),
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "programme.pdf");
    assert_eq!(list[0]["version"], 2);
}

#[tokio::test]
async fn bad_uploads_are_refused_naming_file_and_nothing_is_written() {
    let app = new_app(1).await;
    let (lea, lea_token) = user(&app, "lea").await;
    let ws = workspace(&app, &lea).await;

    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    elf.extend_from_slice(&[0u8; 64]);
    let too_big = [PDF, &vec![b' '; 1024 * 1024 + 1]].concat();
    let cases: Vec<(&str, Part<'static>)> = vec![
        ("executable named .pdf", file("rapport.pdf", &elf)),
        ("empty file", file("vide.pdf", b"")),
        ("over the limit", file("gros.pdf", &too_big)),
        ("path traversal", file("../../etc/passwd", b"root:x:0:0\n")),
        ("control character", file("note\tvoir.txt", b"bonjour\n")),
    ];
    for (what, part) in cases {
        let r = upload(&app, ws, Some(&lea_token), part).await;
        assert!(
            r.status.is_client_error(),
            "{what}: {} {}",
            r.status,
            r.body
        );
        assert_eq!(
            error_fields(&r),
            vec!["file".to_string()],
            "{what}: {}",
            r.body
        );
    }
    assert_eq!(counts(&app).await, (0, 0));
    assert_eq!(stored_files(&app), 0);

    // No multipart body at all, and no `file` field.
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/workspaces/{ws}/documents"),
        Some(&lea_token),
        Some(multipart(vec![Part::text("folder", "")])),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["file".to_string()]);
    assert_eq!(counts(&app).await, (0, 0));
}

#[tokio::test]
async fn outsiders_and_anonymous_clients_get_404_everywhere() {
    let app = new_app(2).await;
    let (lea, lea_token) = user(&app, "lea").await;
    let (_oscar, oscar_token) = user(&app, "oscar").await;
    let ws = workspace(&app, &lea).await;
    let r = upload(&app, ws, Some(&lea_token), file("programme.pdf", PDF)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.json();
    let doc = created["id"].as_str().expect("id").to_string();
    let file_url = path_of(created["download_url"].as_str().expect("url"));

    let urls = [
        (Method::GET, format!("/api/v1/workspaces/{ws}/documents")),
        (
            Method::GET,
            format!("/api/v1/workspaces/{ws}/documents/{doc}"),
        ),
        (
            Method::DELETE,
            format!("/api/v1/workspaces/{ws}/documents/{doc}"),
        ),
        (Method::GET, file_url.clone()),
        (Method::GET, format!("/api/v1/workspaces/{ws}/folders")),
    ];
    for (method, url) in &urls {
        let r = call(&app, method.clone(), url, Some(&oscar_token), None).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "outsider {method} {url}: {}",
            r.body
        );
        let r = call(&app, method.clone(), url, None, None).await;
        assert!(
            matches!(r.status, StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED),
            "anonymous {method} {url}: {}",
            r.status
        );
        assert!(!r.body.contains("programme"), "{url}: {}", r.body);
    }
    let r = upload(&app, ws, Some(&oscar_token), file("autre.pdf", PDF)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/workspaces/{ws}/folders"),
        Some(&oscar_token),
        Some((
            "application/json".into(),
            br#"{"name":"Affiches"}"#.to_vec(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(counts(&app).await, (1, 1));

    // The pages too, for an outsider and a visitor.
    let oscar = Browser::logged_in(&app, "oscar").await;
    let visitor = Browser::new(&app);
    for path in [
        format!("/espaces/{ws}/documents"),
        format!("/espaces/{ws}/documents/{doc}"),
        format!("/espaces/{ws}/documents/{doc}/versions/1"),
    ] {
        for b in [&oscar, &visitor] {
            let r = b.get(&path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
            assert!(!r.body.contains("programme.pdf"), "{path}");
        }
    }
}

#[tokio::test]
async fn only_the_uploader_or_a_coordinator_deletes() {
    let app = new_app(2).await;
    let (lea, lea_token) = user(&app, "lea").await;
    let (max, max_token) = user(&app, "max").await;
    let (nina, nina_token) = user(&app, "nina").await;
    let ws = workspace(&app, &lea).await;
    add_member(&app, ws, &max, "member").await;
    add_member(&app, ws, &nina, "member").await;

    let r = upload(&app, ws, Some(&max_token), file("affiche.pdf", PDF)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let doc = r.json()["id"].as_str().expect("id").to_string();
    let url = format!("/api/v1/workspaces/{ws}/documents/{doc}");

    let r = call(&app, Method::DELETE, &url, Some(&nina_token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(stored_files(&app), 1);
    let r = call(&app, Method::GET, &url, Some(&nina_token), None).await;
    assert_eq!(r.status, StatusCode::OK, "a member reads it: {}", r.body);

    // The owner may; afterwards it is gone for everybody, bytes included.
    let r = call(&app, Method::DELETE, &url, Some(&lea_token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = call(&app, Method::GET, &url, Some(&max_token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(stored_files(&app), 0);

    // Its uploader may delete their own.
    let r = upload(&app, ws, Some(&max_token), file("affiche.pdf", PDF)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let doc = r.json()["id"].as_str().expect("id").to_string();
    let r = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/workspaces/{ws}/documents/{doc}"),
        Some(&max_token),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}

#[tokio::test]
async fn pages_list_upload_show_and_delete() {
    let app = new_app(2).await;
    let (lea, _) = user(&app, "lea").await;
    let ws = workspace(&app, &lea).await;
    let browser = Browser::with_session(&app, &lea).await;
    let list = format!("/espaces/{ws}/documents");

    let page = browser.get(&list).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("name=\"csrf_token\""));

    // A new folder, then a PNG uploaded into it through the page form.
    let r = browser
        .submit_form(
            &format!("{list}/dossiers"),
            &[("name", "Affiches"), ("parent", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let folder_page = r.header("location").expect("location").to_string();
    let folder = folder_page
        .split("dossier=")
        .nth(1)
        .expect("folder id")
        .to_string();
    let png = crate::covers_mentions::png(4, 0);
    let r = browser
        .submit_multipart(
            &folder_page,
            vec![
                Part::text("folder", folder.clone()),
                Part::png("file", "affiche.png", png.clone()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let doc_page = r.header("location").expect("location").to_string();
    assert_eq!(counts(&app).await, (1, 1));

    let page = browser.get(&folder_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("affiche.png"), "{}", page.body);
    assert!(page.body.contains("Affiches"));
    let top = browser.get(&list).await;
    assert!(
        top.body.contains(&format!("?dossier={folder}")),
        "{}",
        top.body
    );
    assert!(!top.body.contains("affiche.png"), "only in its folder");

    let page = browser.get(&doc_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(&format!("{doc_page}/versions/1/apercu")),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("{doc_page}/versions/1\"")));
    let preview = browser.get(&format!("{doc_page}/versions/1/apercu")).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.header("content-type"), Some("image/png"));
    assert_eq!(preview.header("x-content-type-options"), Some("nosniff"));
    let download = browser.get(&format!("{doc_page}/versions/1")).await;
    assert!(
        download
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment"))
    );

    // A refused upload shows the form again, naming the file, nothing written.
    let r = browser
        .submit_multipart(&list, vec![Part::png("file", "vide.pdf", Vec::new())])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("f-file-error"), "{}", r.body);
    assert_eq!(counts(&app).await, (1, 1));

    // Without the CSRF token: refused, nothing written.
    let r = browser
        .post_multipart(&list, vec![Part::png("file", "autre.png", png.clone())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(counts(&app).await, (1, 1));

    let r = browser
        .submit_form(&format!("{doc_page}/supprimer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(browser.get(&doc_page).await.status, StatusCode::NOT_FOUND);
    assert_eq!(stored_files(&app), 0);
}

#[tokio::test]
async fn folders_are_renamed_and_deleted_from_their_page() {
    let app = new_app(2).await;
    let (lea, _) = user(&app, "lea").await;
    let (max, _) = user(&app, "max").await;
    let ws = workspace(&app, &lea).await;
    add_member(&app, ws, &max, "member").await;
    let lea_browser = Browser::with_session(&app, &lea).await;
    let max_browser = Browser::with_session(&app, &max).await;
    let list = format!("/espaces/{ws}/documents");
    let new_folder = async |name: &str, parent: &str| -> String {
        let r = lea_browser
            .submit_form(
                &format!("{list}/dossiers"),
                &[("name", name), ("parent", parent)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let location = r.header("location").expect("location").to_string();
        location.split("dossier=").nth(1).expect("id").to_string()
    };
    let affiches = new_folder("Affiches", "").await;
    let archives = new_folder("Archives", "").await;
    let v2026 = new_folder("2026", &affiches).await;
    let r = lea_browser
        .submit_multipart(
            &format!("{list}?dossier={v2026}"),
            vec![
                Part::text("folder", v2026.clone()),
                Part::png("file", "affiche.png", crate::covers_mentions::png(4, 0)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The sub-folder's page: its breadcrumb ends on itself, with the forms of this folder.
    let page = lea_browser.get(&format!("{list}?dossier={v2026}")).await;
    assert!(
        page.body
            .contains("<span aria-current=\"page\">2026</span>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("{list}/dossiers/{v2026}/renommer"))
    );

    // Rename: a taken name is refused on the rename field, kept as typed; then renamed.
    let rename = format!("{list}/dossiers/{affiches}/renommer");
    let r = lea_browser
        .submit_form(&rename, &[("name", "Archives")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("f-new-name-error"), "{}", r.body);
    assert!(!r.body.contains("f-name-error"), "{}", r.body);
    let r = lea_browser
        .submit_form(&rename, &[("name", "Affiches 2026")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = lea_browser.get(&format!("{list}?dossier={affiches}")).await;
    assert!(page.body.contains("Affiches 2026"), "{}", page.body);

    // Delete: a folder with content asks for the confirmation, and a plain member may not
    // delete others' documents with it; the owner, confirming, deletes it all.
    let delete = format!("{list}/dossiers/{affiches}/supprimer");
    let r = lea_browser.submit_form(&delete, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("f-recursive-error"), "{}", r.body);
    let r = max_browser
        .submit_form(&delete, &[("recursive", "on")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(counts(&app).await, (1, 1));
    let r = lea_browser
        .submit_form(&delete, &[("recursive", "on")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some(list.as_str()));
    assert_eq!(
        lea_browser
            .get(&format!("{list}?dossier={v2026}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // An empty folder goes without confirmation.
    let r = lea_browser
        .submit_form(&format!("{list}/dossiers/{archives}/supprimer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let top = lea_browser.get(&list).await;
    assert!(!top.body.contains("Archives"), "{}", top.body);
}
