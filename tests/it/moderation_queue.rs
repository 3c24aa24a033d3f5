//! The moderators' view of reports: the queue's filters and paging (page and API), unknown
//! filter values, the report page's snapshot after the author edits and deletes, the reported
//! account's history, notes and assignment (with their audit entry), the audit log for admins
//! only, members refused everywhere, and a hostile comment shown as text.

use crate::{
    common::TestApp,
    helpers::{Browser, api, create, error_fields, local_actor, remote_actor_row, rows_in, token},
};
use axum::http::{Method, StatusCode};
use culturecnous::{
    db::{
        self,
        moderation_actions::NewModerationAction,
        schema::{moderation_actions, reports},
    },
    error::AppError,
    service::moderation::{self, Reason, ReportInput, Reporter, reports::submit},
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Value, json};
use url::Url;

/// Stores a report through the one reporting path and returns its id.
async fn report(
    app: &TestApp,
    reporter: Reporter,
    target: &str,
    reason: Reason,
    comment: &str,
) -> i64 {
    let input = ReportInput {
        reporter,
        targets: vec![Url::parse(target).expect("target url")],
        reason,
        rule_ids: vec![],
        comment: comment.to_string(),
        forward: false,
    };
    let ctx = app.ctx.clone();
    let mut conn = app.ctx.conn().await.expect("conn");
    conn.transaction::<_, AppError, _>(async |conn| submit(&ctx, conn, input).await)
        .await
        .expect("submit")
        .expect("stored")
        .report
        .id
}

async fn member(app: &TestApp, username: &str) -> Reporter {
    let account = {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::accounts::by_id(&mut conn, local_account_id(app, username).await)
            .await
            .expect("account")
    };
    Reporter::Member(Box::new(account))
}

async fn local_account_id(app: &TestApp, username: &str) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::schema::accounts::table
        .filter(db::schema::accounts::username.eq(username))
        .select(db::schema::accounts::id)
        .first(&mut conn)
        .await
        .expect("account id")
}

/// A post by `author` (through the API): (id, ap_id).
async fn post(app: &TestApp, author_token: &str, title: &str, body: &str) -> (i64, String) {
    let created = create(
        app,
        author_token,
        "/api/v1/posts",
        json!({"title": title, "body": body}),
    )
    .await;
    (
        created["id"].as_i64().expect("id"),
        created["ap_id"].as_str().expect("ap_id").to_string(),
    )
}

async fn get_json(app: &TestApp, token: &str, uri: &str) -> Value {
    let r = api(app, Method::GET, uri, token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    r.json()
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_filters_by_state_reason_origin_and_assignee_and_pages_newest_first() {
    let app = TestApp::new().await;
    let moderator = app.create_user("modo", "moderator").await;
    app.create_user("auteur", "member").await;
    app.create_user("lea", "member").await;
    let t_author = token(&app, "auteur").await;
    let t_mod = token(&app, "modo").await;
    let (_, ap_id) = post(&app, &t_author, "Annonce de spectacle", "Venez au cirque.").await;
    let mut local = Vec::new();
    for i in 0..53 {
        let reason = if i % 2 == 0 {
            Reason::Spam
        } else {
            Reason::OffTopic
        };
        local.push(
            report(
                &app,
                Reporter::Visitor {
                    email: format!("visiteur{i}@example.org"),
                },
                &ap_id,
                reason,
                &format!("n°{i}"),
            )
            .await,
        );
    }
    let remote = remote_actor_row(&app, "social.example", "instance", true).await;
    let mut from_remote = Vec::new();
    for i in 0..2 {
        from_remote.push(
            report(
                &app,
                Reporter::Remote {
                    actor_id: remote.id,
                    flag_id: Url::parse(&format!("http://social.example/flags/{i}")).expect("url"),
                    domain: "social.example".into(),
                },
                &ap_id,
                Reason::Harassment,
                "",
            )
            .await,
        );
    }
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        db::reports::resolve(&mut conn, local[0], "dismiss", Some(moderator.id))
            .await
            .expect("resolve")
            .expect("was open");
    }

    // Open ones by default, newest first, 50 a page.
    let first = get_json(&app, &t_mod, "/api/v1/admin/reports").await;
    assert_eq!(first["total"], 54, "{first}");
    assert_eq!(first["next_page"], 2);
    let page1 = ids(&first);
    assert_eq!(page1.len(), 50);
    assert_eq!(page1[0], from_remote[1]);
    assert!(page1.windows(2).all(|w| w[0] > w[1]), "{page1:?}");
    let second = get_json(&app, &t_mod, "/api/v1/admin/reports?page=2").await;
    let page2 = ids(&second);
    assert_eq!(page2.len(), 4);
    assert!(second.get("next_page").is_none(), "{second}");
    assert!(!page2.contains(&local[0]), "resolved report listed as open");
    assert!(page2.iter().all(|id| !page1.contains(id)));
    let item = &first["items"][0];
    assert_eq!(item["origin"], "social.example");
    assert_eq!(item["reason"], "harassment");
    assert_eq!(item["state"], "open");
    assert_eq!(item["targets"], json!([ap_id]));

    let count = |q: &'static str| {
        let app = &app;
        let t = t_mod.clone();
        async move { get_json(app, &t, &format!("/api/v1/admin/reports?{q}")).await["total"].clone() }
    };
    assert_eq!(count("state=resolved").await, 1);
    assert_eq!(count("state=all").await, 55);
    assert_eq!(count("reason=off_topic").await, 26);
    assert_eq!(count("reason=spam&state=all").await, 27);
    assert_eq!(count("origin=local").await, 52);
    assert_eq!(count("origin=remote").await, 2);
    assert_eq!(count("origin=social.example").await, 2);
    assert_eq!(count("origin=other.example").await, 0);
    assert_eq!(count("assigned=me").await, 0);
    moderation::queue::assign(&app.ctx, &moderator, local[5], Some("modo"))
        .await
        .expect("assign");
    assert_eq!(count("assigned=me").await, 1);
    assert_eq!(count("assigned=none").await, 53);

    // The page shows the same, with filters kept in the paging links.
    let b = Browser::with_session(&app, &moderator).await;
    let page = b.get("/admin/signalements?reason=off_topic").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("26 signalements correspondent"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<caption"));
    assert!(page.body.contains("scope=\"col\""));
    assert!(page.body.contains("<label for=\"f-reason\">"));
    assert!(
        page.body
            .contains(&format!("href=\"/admin/signalements/{}\"", local[51]))
    );
    assert!(
        !page
            .body
            .contains(&format!("href=\"/admin/signalements/{}\"", local[50]))
    );
    let all = b.get("/admin/signalements").await;
    assert!(
        all.body
            .contains("href=\"/admin/signalements?state=open&#38;page=2\""),
        "{}",
        all.body
    );
    assert!(all.body.contains("social.example"));
    assert!(all.body.contains("Annonce de spectacle"));
    let remote_only = b.get("/admin/signalements?origin=social.example").await;
    assert!(remote_only.body.contains("2 signalements correspondent"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_filter_value_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let moderator = app.create_user("modo", "moderator").await;
    let t = token(&app, "modo").await;
    for (query, field) in [
        ("state=closed", "state"),
        ("reason=rude", "reason"),
        ("origin=pas%20un%20serveur", "origin"),
        ("assigned=bob", "assigned"),
        ("page=0", "page"),
    ] {
        let r = api(
            &app,
            Method::GET,
            &format!("/api/v1/admin/reports?{query}"),
            &t,
            None,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.body
        );
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(error_fields(&r), vec![field.to_string()], "{query}");
    }
    let b = Browser::with_session(&app, &moderator).await;
    let page = b.get("/admin/signalements?reason=rude").await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    let r = api(&app, Method::GET, "/api/v1/admin/reports/999999", &t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(
        b.get("/admin/signalements/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_page_keeps_the_snapshot_after_the_author_edits_then_deletes() {
    let app = TestApp::new().await;
    let moderator = app.create_user("modo", "moderator").await;
    app.create_user("auteur", "member").await;
    app.create_user("lea", "member").await;
    let t_author = token(&app, "auteur").await;
    let t_mod = token(&app, "modo").await;
    let (post_id, ap_id) = post(
        &app,
        &t_author,
        "Grand spectacle de clowns",
        "Réservez vos places au **cirque**.",
    )
    .await;
    let id = report(
        &app,
        member(&app, "lea").await,
        &ap_id,
        Reason::OffTopic,
        "Ceci va dans l'agenda",
    )
    .await;
    let b = Browser::with_session(&app, &moderator).await;
    let path = format!("/admin/signalements/{id}");

    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Grand spectacle de clowns"));
    assert!(
        page.body.contains("<strong>cirque</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("inchangé"));
    assert!(
        page.body
            .contains("le membre <a href=\"/users/lea\">lea</a>")
    );
    // The decision form (handled elsewhere) with every field, for local content.
    assert!(
        page.body
            .contains(&format!("action=\"/admin/signalements/{id}/decision\""))
    );
    for field in [
        "name=\"action\" value=\"dismiss\"",
        "name=\"action\" value=\"redirect\"",
        "name=\"action\" value=\"suspend\"",
        "name=\"statement\"",
        "name=\"rule_ids\"",
        "name=\"note\"",
    ] {
        assert!(page.body.contains(field), "{field} missing");
    }
    assert!(
        !page.body.contains("value=\"block\""),
        "block offered for a local account"
    );
    assert!(
        !page.body.contains("name=\"send_outcome\""),
        "send_outcome for a local report"
    );
    assert!(
        !page.body.contains("/transmettre"),
        "forward offered for local content"
    );

    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/posts/{post_id}"),
        &t_author,
        Some(json!({"title": "Titre anodin", "body": "Rien à voir."})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = b.get(&path).await;
    assert!(page.body.contains("Grand spectacle de clowns"));
    assert!(page.body.contains("Réservez vos places"));
    assert!(!page.body.contains("Rien à voir"));
    assert!(page.body.contains("modifié depuis"), "{}", page.body);

    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/posts/{post_id}"),
        &t_author,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Grand spectacle de clowns"));
    assert!(page.body.contains("supprimé"), "{}", page.body);

    let detail = get_json(&app, &t_mod, &format!("/api/v1/admin/reports/{id}")).await;
    assert_eq!(detail["id"], id);
    assert_eq!(
        detail["snapshots"][0]["snapshot"]["title"],
        "Grand spectacle de clowns"
    );
    assert_eq!(detail["snapshots"][0]["now"], "deleted");
    assert_eq!(detail["reporter"]["kind"], "member");
    assert_eq!(detail["reporter"]["username"], "lea");
    assert_eq!(detail["comment"], "Ceci va dans l'agenda");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_history_lists_previous_reports_and_actions_about_the_same_account() {
    let app = TestApp::new().await;
    let moderator = app.create_user("modo", "moderator").await;
    app.create_user("auteur", "member").await;
    app.create_user("autre", "member").await;
    app.create_user("lea", "member").await;
    let t_author = token(&app, "auteur").await;
    let t_other = token(&app, "autre").await;
    let t_mod = token(&app, "modo").await;
    let (_, first_post) = post(&app, &t_author, "Premier", "Un.").await;
    let (_, second_post) = post(&app, &t_author, "Second", "Deux.").await;
    let (_, unrelated) = post(&app, &t_other, "Ailleurs", "Trois.").await;
    let earlier = report(
        &app,
        member(&app, "lea").await,
        &first_post,
        Reason::Spam,
        "",
    )
    .await;
    let other = report(
        &app,
        member(&app, "lea").await,
        &unrelated,
        Reason::Spam,
        "",
    )
    .await;
    let now = report(
        &app,
        member(&app, "lea").await,
        &second_post,
        Reason::Spam,
        "",
    )
    .await;
    let author = local_actor(&app, "auteur").await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        moderation::log(
            &mut conn,
            NewModerationAction {
                moderator_account_id: Some(moderator.id),
                report_id: Some(earlier),
                action: "warn".into(),
                affected_actor_id: Some(author.id),
                target: first_post.clone(),
                statement: "Merci de publier au bon endroit".into(),
                ..NewModerationAction::default()
            },
        )
        .await
        .expect("log");
    }
    let detail = get_json(&app, &t_mod, &format!("/api/v1/admin/reports/{now}")).await;
    assert_eq!(detail["previous_reports"], json!([earlier]), "{detail}");
    assert_eq!(detail["previous_actions"][0]["action"], "warn");
    assert_eq!(detail["account"], author.ap_id);
    let b = Browser::with_session(&app, &moderator).await;
    let page = b.get(&format!("/admin/signalements/{now}")).await;
    assert!(
        page.body
            .contains(&format!("href=\"/admin/signalements/{earlier}\""))
    );
    assert!(
        !page
            .body
            .contains(&format!("href=\"/admin/signalements/{other}\""))
    );
    assert!(page.body.contains("Merci de publier au bon endroit"));
}

#[tokio::test(flavor = "multi_thread")]
async fn notes_and_assignment_are_kept_and_assignment_is_logged() {
    let app = TestApp::new().await;
    let moderator = app.create_user("modo", "moderator").await;
    let colleague = app.create_user("collegue", "admin").await;
    app.create_user("auteur", "member").await;
    app.create_user("lea", "member").await;
    let t_author = token(&app, "auteur").await;
    let (_, ap_id) = post(&app, &t_author, "Objet", "Texte.").await;
    let id = report(&app, member(&app, "lea").await, &ap_id, Reason::Other, "").await;
    let b = Browser::with_session(&app, &moderator).await;
    let path = format!("/admin/signalements/{id}");

    let r = b
        .submit_form(
            &format!("{path}/notes"),
            &[("body", "Déjà vu la semaine dernière")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = b
        .submit_form(&format!("{path}/notes"), &[("body", "   ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let long = "x".repeat(5001);
    let r = b
        .submit_form(&format!("{path}/notes"), &[("body", long.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rows_in(&app, "report_notes").await, 1);
    let page = b.get(&path).await;
    assert!(page.body.contains("Déjà vu la semaine dernière"));

    let r = b
        .submit_form(&format!("{path}/attribution"), &[("assignee", "collegue")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = b
        .submit_form(&format!("{path}/attribution"), &[("assignee", "lea")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a member cannot be assigned"
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let assigned: Option<i64> = reports::table
        .find(id)
        .select(reports::assigned_to)
        .first(&mut conn)
        .await
        .expect("report");
    assert_eq!(assigned, Some(colleague.id));
    let entries: Vec<(Option<i64>, Option<i64>, String, String)> = moderation_actions::table
        .filter(moderation_actions::action.eq("assign"))
        .select((
            moderation_actions::moderator_account_id,
            moderation_actions::report_id,
            moderation_actions::target,
            moderation_actions::note,
        ))
        .load(&mut conn)
        .await
        .expect("log");
    assert_eq!(
        entries,
        vec![(
            Some(moderator.id),
            Some(id),
            "collegue".to_string(),
            String::new()
        )]
    );

    let page = b.get(&path).await;
    assert!(
        page.body.contains("<option value=\"collegue\" selected>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Signalement attribué"));
    let r = b
        .submit_form(&format!("{path}/attribution"), &[("assignee", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let assigned: Option<i64> = reports::table
        .find(id)
        .select(reports::assigned_to)
        .first(&mut conn)
        .await
        .expect("report");
    assert_eq!(assigned, None);
    assert_eq!(rows_in(&app, "moderation_actions").await, 2);
    let t_mod = token(&app, "modo").await;
    let detail = get_json(&app, &t_mod, &format!("/api/v1/admin/reports/{id}")).await;
    assert_eq!(detail["notes"][0]["body"], "Déjà vu la semaine dernière");
    assert_eq!(detail["notes"][0]["author"], "modo");
    assert_eq!(detail["actions"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_is_for_admins_only() {
    let app = TestApp::new().await;
    let moderator = app.create_user("modo", "moderator").await;
    let admin = app.create_user("admin1", "admin").await;
    app.create_user("auteur", "member").await;
    app.create_user("lea", "member").await;
    let t_author = token(&app, "auteur").await;
    let (_, ap_id) = post(&app, &t_author, "Objet", "Texte.").await;
    let id = report(&app, member(&app, "lea").await, &ap_id, Reason::Other, "").await;
    moderation::queue::assign(&app.ctx, &moderator, id, Some("admin1"))
        .await
        .expect("assign");

    let m = Browser::with_session(&app, &moderator).await;
    assert_eq!(m.get("/admin/journal").await.status, StatusCode::FORBIDDEN);
    let a = Browser::with_session(&app, &admin).await;
    let page = a.get("/admin/journal").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<td>Signalement attribué ("),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("href=\"/admin/signalements/{id}\""))
    );
    assert!(page.body.contains("<td>modo</td>"));
    assert!(
        page.body.contains("<td>admin1</td>"),
        "the assignee is the target"
    );
    let filtered = a.get("/admin/journal?action=warn").await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(!filtered.body.contains("<td>Signalement attribué"));
    assert!(filtered.body.contains("Aucune entrée."));
    let by = a.get("/admin/journal?moderator=modo&action=assign").await;
    assert!(
        by.body
            .contains(&format!("href=\"/admin/signalements/{id}\""))
    );
    assert_eq!(
        a.get("/admin/journal?action=explode").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let overview = a.get("/admin").await;
    assert!(overview.body.contains("href=\"/admin/journal\""));
    assert!(overview.body.contains("href=\"/admin/signalements\""));
    let overview = m.get("/admin").await;
    assert!(!overview.body.contains("href=\"/admin/journal\""));
    assert!(overview.body.contains("href=\"/admin/signalements\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_gets_403_on_every_page_and_api_and_nothing_changes() {
    let app = TestApp::new().await;
    app.create_user("modo", "moderator").await;
    let lea = app.create_user("lea", "member").await;
    app.create_user("auteur", "member").await;
    let t_author = token(&app, "auteur").await;
    let (_, ap_id) = post(&app, &t_author, "Objet", "Texte.").await;
    let id = report(&app, member(&app, "lea").await, &ap_id, Reason::Spam, "").await;
    let b = Browser::with_session(&app, &lea).await;
    for path in [
        "/admin/signalements".to_string(),
        format!("/admin/signalements/{id}"),
        "/admin/journal".to_string(),
    ] {
        assert_eq!(b.get(&path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = b
        .submit_form(
            &format!("/admin/signalements/{id}/notes"),
            &[("body", "moi aussi")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .submit_form(
            &format!("/admin/signalements/{id}/attribution"),
            &[("assignee", "modo")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let t = token(&app, "lea").await;
    for uri in [
        "/api/v1/admin/reports".to_string(),
        format!("/api/v1/admin/reports/{id}"),
    ] {
        let r = api(&app, Method::GET, &uri, &t, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    assert!(
        moderation::queue::assign(&app.ctx, &lea, id, Some("modo"))
            .await
            .is_err()
    );
    assert_eq!(rows_in(&app, "report_notes").await, 0);
    assert_eq!(rows_in(&app, "moderation_actions").await, 0);
    let mut conn = app.ctx.conn().await.expect("conn");
    let assigned: Option<i64> = reports::table
        .find(id)
        .select(reports::assigned_to)
        .first(&mut conn)
        .await
        .expect("report");
    assert_eq!(assigned, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_comment_is_shown_as_text_and_a_remote_account_offers_block_and_forward() {
    let app = TestApp::new().await;
    let moderator = app.create_user("modo", "moderator").await;
    app.create_user("lea", "member").await;
    let remote = remote_actor_row(&app, "social.example", "troll", true).await;
    let id = report(
        &app,
        member(&app, "lea").await,
        &remote.ap_id,
        Reason::Harassment,
        "<script>alert('x')</script> <b>gras</b>",
    )
    .await;
    let b = Browser::with_session(&app, &moderator).await;
    let page = b.get(&format!("/admin/signalements/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("<b>gras</b>"));
    assert!(page.body.contains("&#60;script&#62;"), "{}", page.body);
    assert!(page.body.contains("value=\"block\""));
    assert!(!page.body.contains("value=\"suspend\""));
    assert!(
        page.body
            .contains(&format!("action=\"/admin/signalements/{id}/transmettre\""))
    );
    let list = b.get("/admin/signalements").await;
    assert!(!list.body.contains("<script>alert"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_moderation_pages_pass_the_mechanical_accessibility_checks() {
    let app = TestApp::new().await;
    let admin = app.create_user("admin1", "admin").await;
    app.create_user("auteur", "member").await;
    app.create_user("lea", "member").await;
    let t_author = token(&app, "auteur").await;
    let (_, ap_id) = post(&app, &t_author, "Annonce", "## Un titre\n\nDu *texte*.").await;
    let local = report(
        &app,
        member(&app, "lea").await,
        &ap_id,
        Reason::OffTopic,
        "Hors sujet",
    )
    .await;
    let remote = remote_actor_row(&app, "social.example", "troll", true).await;
    let about_remote = report(
        &app,
        member(&app, "lea").await,
        &remote.ap_id,
        Reason::Spam,
        "",
    )
    .await;
    moderation::queue::add_note(&app.ctx, &admin, local, "Une note")
        .await
        .expect("note");
    moderation::queue::assign(&app.ctx, &admin, local, Some("admin1"))
        .await
        .expect("assign");
    let b = Browser::with_session(&app, &admin).await;
    let mut pages = Vec::new();
    for path in [
        "/admin".to_string(),
        "/admin/signalements".to_string(),
        "/admin/signalements?state=all&reason=off_topic".to_string(),
        format!("/admin/signalements/{local}"),
        format!("/admin/signalements/{about_remote}"),
        "/admin/journal".to_string(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        pages.push((path, page));
    }
    crate::accessibility::assert_accessible(&pages);
}
