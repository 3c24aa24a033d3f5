//! Project workspaces themselves (issue 12): creation by page and API with its private
//! `Group` actor, bad input, the same 404 for outsiders, visitors and unknown ids, roles
//! (edit, archive, transfer), the "new project" alerts of listed workspaces, and `/espaces`.

use crate::{
    common::TestApp,
    helpers::{Browser, LOCAL, api, call, create, error_fields, mails_to, rows_in, token},
};
use axum::http::{Method, StatusCode};
use culturecnous::db::{
    self,
    accounts::DbAccount,
    schema::{actors, notifications, workspace_members, workspaces},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use uuid::Uuid;

async fn new_app() -> TestApp {
    let app = TestApp::new().await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    app
}

async fn member(app: &TestApp, name: &str) -> (DbAccount, String) {
    let account = app.create_user(name, "member").await;
    let token = token(app, name).await;
    (account, token)
}

async fn new_workspace(app: &TestApp, token: &str, body: Value) -> Uuid {
    let created = create(app, token, "/api/v1/workspaces", body).await;
    created["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .expect("id")
}

/// Makes `account` a member of `id` with `role` (invitations are another module's).
async fn add_member(app: &TestApp, id: Uuid, account: &DbAccount, role: &str) {
    crate::helpers::add_workspace_member(&app.ctx, id, account.actor_id, role).await;
}

async fn role_of(app: &TestApp, id: Uuid, account: &DbAccount) -> Option<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    workspace_members::table
        .find((id, account.actor_id))
        .select(workspace_members::role)
        .first(&mut conn)
        .await
        .optional()
        .expect("role")
}

/// (account, workspace) of the "project" notifications, in account order.
async fn project_notifications(app: &TestApp) -> Vec<(i64, Option<Uuid>)> {
    let mut conn = app.ctx.conn().await.expect("conn");
    notifications::table
        .filter(notifications::kind.eq("project"))
        .select((notifications::account_id, notifications::workspace_id))
        .order((notifications::account_id, notifications::id))
        .load(&mut conn)
        .await
        .expect("notifications")
}

#[tokio::test]
async fn creating_by_page_or_api_makes_a_private_group_owned_by_its_creator() {
    let app = new_app().await;
    let (lea, lea_token) = member(&app, "lea").await;
    let browser = Browser::logged_in(&app, "lea").await;

    let form = browser.get("/espaces/nouveau").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"listed\""), "{}", form.body);
    let r = browser
        .submit_form(
            "/espaces/nouveau",
            &[
                ("name", "Résidence aux Charmilles"),
                ("description", "Des **ateliers** <script>alert(1)</script>"),
                ("disciplines", "Théâtre, lecture"),
                ("commune", "epinal"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.header("location").expect("location").to_string();
    let id = Uuid::parse_str(location.trim_start_matches("/espaces/")).expect("uuid path");

    let mut conn = app.ctx.conn().await.expect("conn");
    let w = db::workspaces::by_id(&mut conn, id)
        .await
        .expect("query")
        .expect("row");
    assert!(w.local && !w.listed && !w.is_archived());
    assert_eq!(w.name, "Résidence aux Charmilles");
    assert_eq!(w.disciplines, vec!["Théâtre", "lecture"]);
    assert_eq!(w.commune_code.as_deref(), Some("88160"));
    assert!(w.description_html.contains("<strong>ateliers</strong>"));
    assert!(!w.description_html.contains("<script"));
    assert_eq!(w.created_by_account_id, Some(lea.id));
    let group = db::actors::by_id(&mut conn, w.actor_id)
        .await
        .expect("actor");
    assert_eq!(group.kind, "Group");
    assert!(group.local);
    assert_eq!(group.username, id.to_string());
    assert_eq!(group.ap_id, format!("{LOCAL}/workspaces/{id}"));
    assert_eq!(group.inbox_url, format!("{LOCAL}/workspaces/{id}/inbox"));
    assert!(group.shared_inbox_url.is_none() && group.followers_url.is_none());
    assert!(group.manually_approves_followers && !group.discoverable);
    assert!(group.private_key_pem.is_some());
    assert!(group.public_key_pem.contains("PUBLIC KEY"));
    drop(conn);
    assert_eq!(role_of(&app, id, &lea).await.as_deref(), Some("owner"));

    let page = browser.get(&location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Résidence aux Charmilles"));
    assert!(page.body.contains("href=\"/espaces\""), "nav link");
    assert!(page.body.contains(&format!("/espaces/{id}/discussion")));

    let created = create(
        &app,
        &lea_token,
        "/api/v1/workspaces",
        json!({"name": "Festival d'été", "description": "Préparation", "disciplines": ["musique"], "listed": true}),
    )
    .await;
    let api_id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["ap_id"], format!("{LOCAL}/workspaces/{api_id}"));
    assert_eq!(created["url"], format!("{LOCAL}/espaces/{api_id}"));
    let one = api(
        &app,
        Method::GET,
        &format!("/api/v1/workspaces/{api_id}"),
        &lea_token,
        None,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let one = one.json();
    assert_eq!(one["role"], "owner");
    assert_eq!(one["members"], 1);
    assert_eq!(one["listed"], true);
    assert_eq!(one["archived"], false);
    assert_eq!(one["disciplines"], json!(["musique"]));
    let mine = api(&app, Method::GET, "/api/v1/workspaces", &lea_token, None).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.json()["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let app = new_app().await;
    let (_, lea_token) = member(&app, "lea").await;
    let browser = Browser::logged_in(&app, "lea").await;
    let workspaces_before = rows_in(&app, "workspaces").await;
    let actors_before = rows_in(&app, "actors").await;

    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(151)}), "name"),
        (json!({"name": "Projet", "commune": "Atlantis"}), "commune"),
        (
            json!({"name": "Projet", "description": "d".repeat(10_001)}),
            "description",
        ),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/workspaces",
            &lea_token,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(error_fields(&r), vec![field.to_string()], "{body}");
    }
    // Every broken rule at once.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/workspaces",
        &lea_token,
        Some(json!({"name": "", "commune": "Atlantis"})),
    )
    .await;
    assert_eq!(error_fields(&r), vec!["name", "commune"]);
    // Not JSON of this shape.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/workspaces",
        &lea_token,
        Some(json!({"name": "Projet", "owner": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    let page = browser
        .submit_form(
            "/espaces/nouveau",
            &[("name", ""), ("commune", "Atlantis"), ("listed", "on")],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"#f-name\""), "{}", page.body);
    assert!(page.body.contains("href=\"#f-commune\""), "{}", page.body);
    assert!(
        page.body.contains("value=\"Atlantis\""),
        "the form keeps what was typed"
    );

    assert_eq!(rows_in(&app, "workspaces").await, workspaces_before);
    assert_eq!(rows_in(&app, "workspace_members").await, 0);
    assert_eq!(rows_in(&app, "actors").await, actors_before);
    // Anonymous API callers are refused before anything is read.
    let r = call(
        &app,
        Method::POST,
        "/api/v1/workspaces",
        None,
        Some(("application/json".into(), b"{\"name\":\"x\"}".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn outsiders_and_visitors_get_the_same_404_as_an_unknown_workspace() {
    let app = new_app().await;
    let (_, lea_token) = member(&app, "lea").await;
    let (_, oscar_token) = member(&app, "oscar").await;
    let id = new_workspace(&app, &lea_token, json!({"name": "Projet secret"})).await;
    let unknown = Uuid::new_v4();
    let oscar = Browser::logged_in(&app, "oscar").await;
    let visitor = Browser::new(&app);

    for section in ["", "/parametres"] {
        for who in [&oscar, &visitor] {
            let known = who.get(&format!("/espaces/{id}{section}")).await;
            let missing = who.get(&format!("/espaces/{unknown}{section}")).await;
            assert_eq!(
                known.status,
                StatusCode::NOT_FOUND,
                "{section}: {}",
                known.body
            );
            assert_eq!(missing.status, StatusCode::NOT_FOUND);
            assert!(!known.body.contains("Projet secret"));
            assert_eq!(
                known.body.replace(&id.to_string(), "ID"),
                missing.body.replace(&unknown.to_string(), "ID"),
                "the answers do not tell a workspace exists"
            );
        }
    }
    let garbage = oscar.get("/espaces/pas-un-uuid").await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);

    let problem = |r: &crate::common::TestResponse| {
        let j = r.json();
        (j["status"].clone(), j["title"].clone(), j["detail"].clone())
    };
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"name": "Pris"}))),
        (Method::POST, "/archive", None),
        (Method::POST, "/unarchive", None),
        (Method::POST, "/transfer", Some(json!({"to": "oscar"}))),
    ] {
        let known = api(
            &app,
            method.clone(),
            &format!("/api/v1/workspaces/{id}{suffix}"),
            &oscar_token,
            body.clone(),
        )
        .await;
        let missing = api(
            &app,
            method.clone(),
            &format!("/api/v1/workspaces/{unknown}{suffix}"),
            &oscar_token,
            body,
        )
        .await;
        assert_eq!(
            known.status,
            StatusCode::NOT_FOUND,
            "{method} {suffix}: {}",
            known.body
        );
        assert_eq!(problem(&known), problem(&missing), "{method} {suffix}");
    }
    // Nothing changed.
    let mut conn = app.ctx.conn().await.expect("conn");
    let w = db::workspaces::by_id(&mut conn, id)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(w.name, "Projet secret");
    assert!(!w.is_archived());
    // Listing only shows the caller's own.
    let theirs = api(&app, Method::GET, "/api/v1/workspaces", &oscar_token, None).await;
    assert_eq!(theirs.json()["items"], json!([]));
}

#[tokio::test]
async fn roles_decide_who_edits_archives_and_transfers() {
    let app = new_app().await;
    let (lea, lea_token) = member(&app, "lea").await;
    let (marc, marc_token) = member(&app, "marc").await;
    let (nina, nina_token) = member(&app, "nina").await;
    let (_, oscar_token) = member(&app, "oscar").await;
    let id = new_workspace(&app, &lea_token, json!({"name": "Résidence"})).await;
    add_member(&app, id, &marc, "coordinator").await;
    add_member(&app, id, &nina, "member").await;
    let path = format!("/api/v1/workspaces/{id}");

    // A member reads but does not edit.
    let r = api(&app, Method::GET, &path, &nina_token, None).await;
    assert_eq!(r.json()["role"], "member");
    assert_eq!(r.json()["members"], 3);
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &nina_token,
        Some(json!({"name": "À moi"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let nina_browser = Browser::logged_in(&app, "nina").await;
    let settings = nina_browser.get(&format!("/espaces/{id}/parametres")).await;
    assert_eq!(settings.status, StatusCode::FORBIDDEN);
    // A coordinator edits; the Group actor follows.
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &marc_token,
        Some(json!({"name": "Résidence 2027", "description": "Avec la *médiathèque*"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["name"], "Résidence 2027");
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &marc_token,
        Some(json!({"name": ""})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r), vec!["name"]);
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        let (name, summary): (String, String) = workspaces::table
            .inner_join(actors::table)
            .filter(workspaces::id.eq(id))
            .select((actors::name, actors::summary_html))
            .first(&mut conn)
            .await
            .expect("group");
        assert_eq!(name, "Résidence 2027");
        assert!(summary.contains("<em>médiathèque</em>"), "{summary}");
    }
    // The coordinator's settings page offers the edit, not the owner's actions.
    let marc_browser = Browser::logged_in(&app, "marc").await;
    let settings = marc_browser.get(&format!("/espaces/{id}/parametres")).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert!(settings.body.contains("Résidence 2027"));
    assert!(!settings.body.contains(&format!("/espaces/{id}/archiver")));
    let r = marc_browser
        .submit_form(
            &format!("/espaces/{id}/parametres"),
            &[("name", "Résidence d'automne"), ("description", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Only the owner archives and transfers.
    for suffix in ["/archive", "/unarchive"] {
        let r = api(
            &app,
            Method::POST,
            &format!("{path}{suffix}"),
            &marc_token,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{suffix}: {}", r.body);
    }
    let r = api(
        &app,
        Method::POST,
        &format!("{path}/transfer"),
        &marc_token,
        Some(json!({"to": "nina"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The target must be a local member.
    for to in ["oscar", "personne", "lea"] {
        let r = api(
            &app,
            Method::POST,
            &format!("{path}/transfer"),
            &lea_token,
            Some(json!({"to": to})),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{to}: {}",
            r.body
        );
        assert_eq!(error_fields(&r), vec!["to"], "{to}");
    }
    assert_eq!(role_of(&app, id, &lea).await.as_deref(), Some("owner"));
    let r = api(
        &app,
        Method::POST,
        &format!("{path}/transfer"),
        &lea_token,
        Some(json!({"to": "@nina"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["role"], "coordinator");
    assert_eq!(
        role_of(&app, id, &lea).await.as_deref(),
        Some("coordinator")
    );
    assert_eq!(role_of(&app, id, &nina).await.as_deref(), Some("owner"));
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        let told: Vec<(String, Option<Uuid>)> = notifications::table
            .filter(notifications::account_id.eq(nina.id))
            .select((notifications::kind, notifications::workspace_id))
            .load(&mut conn)
            .await
            .expect("notifications");
        assert_eq!(told, vec![("workspace_membership".to_string(), Some(id))]);
    }
    // The old owner no longer archives; the new one does.
    let r = api(
        &app,
        Method::POST,
        &format!("{path}/archive"),
        &lea_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(
        &app,
        Method::POST,
        &format!("{path}/archive"),
        &nina_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["archived"], true);

    // Archived: read-only, for everyone.
    let r = api(&app, Method::GET, &path, &marc_token, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &marc_token,
        Some(json!({"name": "Encore"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &nina_token,
        Some(json!({"listed": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        &format!("{path}/transfer"),
        &nina_token,
        Some(json!({"to": "lea"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api(
        &app,
        Method::POST,
        &format!("{path}/archive"),
        &nina_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let page = marc_browser.get(&format!("/espaces/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("archivé"), "{}", page.body);
    // The owner brings it back, by the page this time.
    let nina_settings = nina_browser.get(&format!("/espaces/{id}/parametres")).await;
    assert!(
        nina_settings
            .body
            .contains(&format!("/espaces/{id}/desarchiver"))
    );
    let r = nina_browser
        .submit_form(&format!("/espaces/{id}/desarchiver"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &marc_token,
        Some(json!({"name": "Encore"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // An outsider still learns nothing.
    let r = api(&app, Method::GET, &path, &oscar_token, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listed_workspaces_notify_matching_alerts_and_unlisted_ones_nobody() {
    let app = new_app().await;
    let (lea, lea_token) = member(&app, "lea").await;
    let (marc, marc_token) = member(&app, "marc").await;
    let (_, paul_token) = member(&app, "paul").await;
    let (_, zoe_token) = member(&app, "zoe").await;
    let (ines, ines_token) = member(&app, "ines").await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::sql_query("UPDATE accounts SET email_confirmed_at = now()")
            .execute(&mut conn)
            .await
            .expect("confirm");
    }
    for (token, body) in [
        (
            &marc_token,
            json!({"disciplines": ["théâtre"], "mail": "instant"}),
        ),
        (
            &paul_token,
            json!({"disciplines": ["musique"], "mail": "none"}),
        ),
        (&zoe_token, json!({"commune": "Gérardmer", "mail": "none"})),
        // The creator's own alert matches everything, yet she is not told of her project.
        (&lea_token, json!({"mail": "instant"})),
        // An announcement kind is not a project; the kind « projet » watches projects only.
        (&paul_token, json!({"kind": "emploi", "mail": "none"})),
        (&ines_token, json!({"kind": "projet", "mail": "none"})),
    ] {
        create(&app, token, "/api/v1/alerts", body).await;
    }
    let marc_mails = mails_to(&app, "marc@example.org").await;

    let hidden = new_workspace(
        &app,
        &lea_token,
        json!({"name": "Projet discret", "disciplines": ["Théâtre"], "commune": "epinal"}),
    )
    .await;
    assert_eq!(project_notifications(&app).await, vec![]);

    let listed = new_workspace(
        &app,
        &lea_token,
        json!({"name": "Résidence ouverte", "disciplines": ["Théâtre", "danse"], "commune": "epinal", "listed": true}),
    )
    .await;
    assert_eq!(
        project_notifications(&app).await,
        vec![(marc.id, Some(listed)), (ines.id, Some(listed))]
    );
    assert_eq!(mails_to(&app, "marc@example.org").await, marc_mails + 1);
    assert_eq!(mails_to(&app, "lea@example.org").await, 0);
    let page = Browser::logged_in(&app, "marc")
        .await
        .get("/notifications")
        .await;
    assert!(page.body.contains("Résidence ouverte"), "{}", page.body);

    // Listing the discreet one later tells its matching members, once.
    let path = format!("/api/v1/workspaces/{hidden}");
    let r = api(
        &app,
        Method::PATCH,
        &path,
        &lea_token,
        Some(json!({"listed": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after = project_notifications(&app).await;
    assert_eq!(after.len(), 4, "{after:?}");
    assert!(after.contains(&(marc.id, Some(hidden))));
    assert!(after.contains(&(ines.id, Some(hidden))));
    for listed in [false, true] {
        api(
            &app,
            Method::PATCH,
            &path,
            &lea_token,
            Some(json!({"listed": listed})),
        )
        .await;
    }
    assert_eq!(project_notifications(&app).await.len(), 4);
    assert!(
        !project_notifications(&app)
            .await
            .iter()
            .any(|(a, _)| *a == lea.id)
    );
}

#[tokio::test]
async fn the_list_shows_my_workspaces_and_open_projects_by_name_and_description_only() {
    let app = new_app().await;
    let (_, lea_token) = member(&app, "lea").await;
    let (marc, marc_token) = member(&app, "marc").await;
    let listed = new_workspace(
        &app,
        &lea_token,
        json!({"name": "Résidence ouverte", "description": "Un projet **partagé**", "disciplines": ["Marionnette"], "commune": "epinal", "listed": true}),
    )
    .await;
    new_workspace(&app, &lea_token, json!({"name": "Projet discret"})).await;
    let archived = new_workspace(
        &app,
        &lea_token,
        json!({"name": "Ancien projet", "listed": true}),
    )
    .await;
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/workspaces/{archived}/archive"),
        &lea_token,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let mine = new_workspace(&app, &marc_token, json!({"name": "Chantier de marc"})).await;

    let page = Browser::logged_in(&app, "marc").await.get("/espaces").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Chantier de marc"));
    assert!(page.body.contains(&format!("href=\"/espaces/{mine}\"")));
    assert!(page.body.contains("Projets ouverts"));
    assert!(page.body.contains("Résidence ouverte"));
    assert!(page.body.contains("<strong>partagé</strong>"));
    assert!(
        page.body
            .contains(&format!("href=\"/espaces/{listed}/rejoindre\""))
    );
    assert!(page.body.contains("Demander à rejoindre"));
    // Not its page, its disciplines nor its commune; nothing of unlisted or archived ones.
    assert!(!page.body.contains(&format!("href=\"/espaces/{listed}\"")));
    assert!(!page.body.contains("Marionnette"));
    assert!(!page.body.contains("Projet discret"));
    assert!(!page.body.contains("Ancien projet"));
    // Once a member, it is among mine, not among the open projects.
    add_member(&app, listed, &marc, "member").await;
    let page = Browser::logged_in(&app, "marc").await.get("/espaces").await;
    assert!(page.body.contains(&format!("href=\"/espaces/{listed}\"")));
    assert!(!page.body.contains(&format!("/espaces/{listed}/rejoindre")));

    // Visitors are sent to the login page, as for every member page.
    let visitor = Browser::new(&app);
    for path in ["/espaces", "/espaces/nouveau"] {
        let r = visitor.get(path).await;
        assert!(r.status.is_redirection(), "{path}: {}", r.status);
        assert!(
            r.header("location").unwrap_or("").starts_with("/connexion"),
            "{path}: {:?}",
            r.header("location")
        );
    }
}

#[tokio::test]
async fn the_activity_page_shows_latest_messages_documents_and_meetings() {
    let app = new_app().await;
    let (lea, lea_token) = member(&app, "lea").await;
    let id = new_workspace(&app, &lea_token, json!({"name": "Résidence"})).await;
    let browser = Browser::logged_in(&app, "lea").await;
    let empty = browser.get(&format!("/espaces/{id}")).await;
    assert!(
        empty.body.contains("Pas encore de message."),
        "{}",
        empty.body
    );

    let mut conn = app.ctx.conn().await.expect("conn");
    for (body, deleted) in [("Bonjour à **toutes**", false), ("Oups, erreur", true)] {
        diesel::sql_query(
            "INSERT INTO workspace_messages (id, workspace_id, author_actor_id, ap_id, body_markdown, body_html, deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END)",
        )
        .bind::<diesel::sql_types::Uuid, _>(Uuid::new_v4())
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::BigInt, _>(lea.actor_id)
        .bind::<diesel::sql_types::Text, _>(format!("{LOCAL}/workspaces/{id}/messages/{}", Uuid::new_v4()))
        .bind::<diesel::sql_types::Text, _>(body)
        .bind::<diesel::sql_types::Text, _>(if body.contains("toutes") {
            "<p>Bonjour à <strong>toutes</strong></p>"
        } else {
            "<p>Oups, erreur</p>"
        })
        .bind::<diesel::sql_types::Bool, _>(deleted)
        .execute(&mut conn)
        .await
        .expect("message");
    }
    diesel::sql_query(
        "INSERT INTO workspace_documents (id, workspace_id, name, ap_id) VALUES ($1, $2, 'programme.pdf', $3)",
    )
    .bind::<diesel::sql_types::Uuid, _>(Uuid::new_v4())
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Text, _>(format!("{LOCAL}/workspaces/{id}/documents/{}", Uuid::new_v4()))
    .execute(&mut conn)
    .await
    .expect("document");
    diesel::sql_query(
        "INSERT INTO workspace_meetings (id, workspace_id, ap_id, title, starts_at, duration_minutes)
         VALUES ($1, $2, $3, 'Réunion de lancement', now() + interval '2 days', 90)",
    )
    .bind::<diesel::sql_types::Uuid, _>(Uuid::new_v4())
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Text, _>(format!("{LOCAL}/workspaces/{id}/meetings/{}", Uuid::new_v4()))
    .execute(&mut conn)
    .await
    .expect("meeting");
    drop(conn);

    let page = browser.get(&format!("/espaces/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Bonjour à <strong>toutes</strong>"));
    assert!(page.body.contains("message supprimé"));
    assert!(!page.body.contains("Oups"));
    assert!(page.body.contains("programme.pdf"));
    assert!(page.body.contains("Réunion de lancement"));
    for section in ["discussion", "documents", "reunions"] {
        assert!(
            page.body
                .contains(&format!("href=\"/espaces/{id}/{section}\""))
        );
    }
}
