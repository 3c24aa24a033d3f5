//! Announcement alerts (issue 9, item 5) and the digest job (item 7): saved filters through the
//! API and the pages, their matching when an announcement is published, the instant mails,
//! and digests that neither repeat nor skip anyone.

use crate::common::TestApp;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use chrono::Utc;
use culturecnous::{
    db::{
        accounts::DbAccount,
        notifications::NewNotification,
        schema::{mails, notification_preferences, notifications},
    },
    service::digest::{DigestOutcome, Period, run_digest},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

/// An instance under test with its identity recorded (as `serve` does at start): the key
/// of unsubscribe links lives there.
async fn new_app() -> TestApp {
    let app = TestApp::new().await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    app
}

/// Members get mail only once their address is confirmed.
async fn confirm_everyone(app: &TestApp) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query("UPDATE accounts SET email_confirmed_at = now()")
        .execute(&mut conn)
        .await
        .expect("confirm");
}

async fn member(app: &TestApp, name: &str) -> (DbAccount, String) {
    let account = app.create_user(name, "member").await;
    let token = token(app, name).await;
    (account, token)
}

async fn alert(app: &TestApp, token: &str, body: Value) -> i64 {
    create(app, token, "/api/v1/alerts", body).await["id"]
        .as_i64()
        .expect("id")
}

async fn announce(app: &TestApp, token: &str, body: Value) -> i64 {
    let mut body = body;
    body["body"] = json!("Le détail de l'annonce.");
    create(app, token, "/api/v1/announcements", body).await["id"]
        .as_i64()
        .expect("id")
}

/// (account id, alert id, delivery) of the announcement notifications of a post.
async fn notified(app: &TestApp, post_id: i64) -> Vec<(i64, Option<i64>, String)> {
    let mut conn = app.ctx.conn().await.expect("conn");
    notifications::table
        .filter(notifications::post_id.eq(post_id))
        .filter(notifications::kind.eq("announcement"))
        .select((
            notifications::account_id,
            notifications::alert_id,
            notifications::delivery,
        ))
        .order(notifications::account_id)
        .load(&mut conn)
        .await
        .expect("notifications")
}

/// (account id, category, subject, unsubscribe URL) of the queued mails.
async fn queued_mails(app: &TestApp) -> Vec<(Option<i64>, String, String, Option<String>)> {
    let mut conn = app.ctx.conn().await.expect("conn");
    mails::table
        .select((
            mails::account_id,
            mails::category,
            mails::subject,
            mails::unsubscribe_url,
        ))
        .order(mails::id)
        .load(&mut conn)
        .await
        .expect("mails")
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_are_created_listed_and_deleted_through_the_api() {
    let app = new_app().await;
    let (_, lea) = member(&app, "lea").await;
    let (_, marc) = member(&app, "marc").await;

    let id = alert(
        &app,
        &lea,
        json!({"kind": "residence", "disciplines": ["Théâtre", "danse"], "commune": "saint-die-des-vosges", "mail": "daily"}),
    )
    .await;
    let every = alert(&app, &lea, json!({"mail": "none"})).await;

    let list = api(&app, Method::GET, "/api/v1/alerts", &lea, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.json()["items"].as_array().cloned().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], id);
    assert_eq!(items[0]["kind"], "residence");
    assert_eq!(items[0]["disciplines"], json!(["théâtre", "danse"]));
    assert_eq!(items[0]["commune"]["code"], "88413");
    assert_eq!(items[0]["commune"]["name"], "Saint-Dié-des-Vosges");
    assert_eq!(items[0]["mail"], "daily");
    assert_eq!(items[1]["id"], every);
    assert!(items[1]["kind"].is_null() && items[1]["commune"].is_null());

    // Someone else's alert is not there for another member.
    let theirs = api(&app, Method::GET, "/api/v1/alerts", &marc, None).await;
    assert_eq!(theirs.json()["items"], json!([]));
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/alerts/{id}"),
        &marc,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = api(&app, Method::DELETE, "/api/v1/alerts/abc", &lea, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/alerts/{id}"),
        &lea,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let list = api(&app, Method::GET, "/api/v1/alerts", &lea, None).await;
    let ids: Vec<i64> = list.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![every]);

    // Without a token: 401.
    let r = call(&app, Method::GET, "/api/v1/alerts", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // In the OpenAPI document.
    let doc = app
        .get("/api/v1/openapi.json", "application/json")
        .await
        .json();
    assert!(doc["paths"]["/api/v1/alerts"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/alerts/{id}"]["delete"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_filter_names_its_field_and_writes_nothing() {
    let app = new_app().await;
    let (_, lea) = member(&app, "lea").await;
    for (body, field) in [
        (json!({"kind": "concert", "mail": "instant"}), "kind"),
        (json!({"commune": "Atlantis", "mail": "instant"}), "commune"),
        // Several communes are called Saint-Amand: the département is needed.
        (
            json!({"commune": "Saint-Amand", "mail": "instant"}),
            "commune",
        ),
        (json!({"mail": "hourly"}), "mail"),
        (json!({"kind": "emploi"}), "mail"),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/alerts",
            &lea,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{body}"
        );
        assert!(
            error_fields(&r).contains(&field.to_string()),
            "{body}: {}",
            r.body
        );
    }
    assert_eq!(rows_in(&app, "alerts").await, 0);
    // With the département, or the INSEE code, it is one commune.
    alert(
        &app,
        &lea,
        json!({"commune": "Saint-Amand (62)", "mail": "none"}),
    )
    .await;
    alert(
        &app,
        &lea,
        json!({"commune": "62741", "kind": "emploi", "mail": "none"}),
    )
    .await;
    assert_eq!(rows_in(&app, "alerts").await, 2);
    // The same search twice is refused, whatever the order of its disciplines.
    alert(
        &app,
        &lea,
        json!({"disciplines": ["danse", "cirque"], "mail": "daily"}),
    )
    .await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/alerts",
        &lea,
        Some(json!({"disciplines": ["Cirque", "Danse"], "mail": "instant"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(error_fields(&r), vec!["alerts".to_string()]);
    assert_eq!(rows_in(&app, "alerts").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_are_managed_from_the_settings_page_and_the_announcement_list() {
    let app = new_app().await;
    let lea = app.create_user("lea", "member").await;
    let other = app.create_user("marc", "member").await;
    let browser = Browser::with_session(&app, &lea).await;

    let page = browser.get("/parametres/alertes").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        unescape(&page.body).contains("Vous n'avez aucune alerte"),
        "{}",
        page.body
    );

    // The list's « M'alerter pour cette recherche » form carries the current filter.
    let list = browser
        .get("/annonces?kind=residence&discipline=Danse&commune=%C3%89pinal")
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let html = unescape(&list.body);
    assert!(html.contains("M'alerter pour cette recherche"), "{html}");
    assert!(html.contains(r#"<input type="hidden" name="kind" value="residence">"#));
    assert!(html.contains(r#"<input type="hidden" name="commune" value="Épinal">"#));

    let r = browser
        .submit_form(
            "/parametres/alertes",
            &[
                ("kind", "residence"),
                ("disciplines", "Danse"),
                ("commune", "Épinal"),
                ("mail", "weekly"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = browser.get("/parametres/alertes").await;
    let html = unescape(&page.body);
    assert!(html.contains("Épinal (88)"), "{html}");
    assert!(html.contains("dans un résumé hebdomadaire"), "{html}");

    // Two more alerts, so that the list has several delete buttons.
    for (field, value, mail) in [("kind", "emploi", "instant"), ("commune", "Golbey", "none")] {
        let r = browser
            .submit_form("/parametres/alertes", &[(field, value), ("mail", mail)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let listed = browser.get("/parametres/alertes").await;
    let announcements = browser.get("/annonces?kind=residence").await;
    let anonymous = Browser::new(&app).get("/annonces?kind=residence").await;

    // An unknown commune: the page again, the field named, the values kept, nothing saved.
    let r = browser
        .submit_form(
            "/parametres/alertes",
            &[("kind", ""), ("commune", "Atlantis"), ("mail", "instant")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains(r##"href="#f-commune""##), "{}", r.body);
    assert!(r.body.contains(r#"value="Atlantis""#), "{}", r.body);
    assert_eq!(rows_in(&app, "alerts").await, 3);
    crate::accessibility::assert_accessible(&[
        ("/parametres/alertes".into(), listed),
        ("/parametres/alertes (errors)".into(), r),
        ("/annonces (member)".into(), announcements),
        ("/annonces (visitor)".into(), anonymous),
    ]);

    // Deleting: someone else cannot; the owner can.
    let mut conn = app.ctx.conn().await.expect("conn");
    let id: i64 = culturecnous::db::alerts::by_account(&mut conn, lea.id)
        .await
        .expect("alerts")[0]
        .id;
    let intruder = Browser::with_session(&app, &other).await;
    let r = intruder
        .submit_form(&format!("/parametres/alertes/{id}/supprimer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = browser
        .submit_form(&format!("/parametres/alertes/{id}/supprimer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(rows_in(&app, "alerts").await, 2);

    // A visitor is offered to log in instead.
    let visitor = Browser::new(&app);
    let list = visitor.get("/annonces?kind=emploi").await;
    assert!(list.body.contains("/connexion?next="), "{}", list.body);
    assert!(!list.body.contains(r#"action="/parametres/alertes""#));
    let r = visitor.get("/parametres/alertes").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn publishing_notifies_each_member_whose_alert_matches_once() {
    let app = new_app().await;
    let (author, author_token) = member(&app, "autrice").await;
    let mut expected = Vec::new();
    let mut not_expected = Vec::new();
    for (name, filters, matches) in [
        ("kind_ok", vec![json!({"kind": "residence"})], true),
        ("kind_no", vec![json!({"kind": "emploi"})], false),
        ("disc_ok", vec![json!({"disciplines": ["DANSE"]})], true),
        ("disc_no", vec![json!({"disciplines": ["cirque"]})], false),
        ("commune_ok", vec![json!({"commune": "Epinal"})], true),
        (
            "commune_no",
            vec![json!({"commune": "Saint-Dié-des-Vosges"})],
            false,
        ),
        ("all", vec![json!({})], true),
        ("twice", vec![json!({}), json!({"kind": "residence"})], true),
        (
            "combined_no",
            vec![json!({"kind": "residence", "commune": "Golbey"})],
            false,
        ),
        ("muted", vec![json!({})], false),
    ] {
        let (account, token) = member(&app, name).await;
        for mut filter in filters {
            filter["mail"] = json!("none");
            alert(&app, &token, filter).await;
        }
        if matches {
            expected.push(account.id);
        } else {
            not_expected.push(account.id);
        }
    }
    // The author's own alert does not notify them.
    alert(&app, &author_token, json!({"mail": "none"})).await;
    // "muted" turned announcement notifications off.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        let muted = culturecnous::db::accounts::by_login(&mut conn, "muted")
            .await
            .expect("query")
            .expect("muted");
        diesel::insert_into(notification_preferences::table)
            .values((
                notification_preferences::account_id.eq(muted.id),
                notification_preferences::kind.eq("announcement"),
                notification_preferences::delivery.eq("off"),
            ))
            .execute(&mut conn)
            .await
            .expect("preference");
    }

    // A draft notifies nobody; its publication does.
    let draft = create(
        &app,
        &author_token,
        "/api/v1/announcements",
        json!({"title": "Résidence de danse", "body": "Détails.", "kind": "residence",
               "disciplines": ["Danse", "Théâtre"], "commune": "épinal", "draft": true}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    assert!(notified(&app, draft).await.is_empty());
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/announcements/{draft}/publish"),
        &author_token,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    let rows = notified(&app, draft).await;
    let accounts: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(accounts, expected, "one notification per matching member");
    assert!(!accounts.contains(&author.id));
    assert!(rows.iter().all(|r| r.1.is_some() && r.2 == "centre"));

    // An edit does not notify again.
    let r = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/announcements/{draft}"),
        &author_token,
        Some(json!({"title": "Résidence de danse (modifiée)"})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(notified(&app, draft).await.len(), expected.len());

    // A blog post notifies nobody.
    let before = rows_in(&app, "notifications").await;
    create(
        &app,
        &author_token,
        "/api/v1/posts",
        json!({"title": "Résidence de danse", "body": "Un billet."}),
    )
    .await;
    assert_eq!(rows_in(&app, "notifications").await, before);
    // An announcement of another kind elsewhere reaches the empty filters and its kind.
    let other = announce(
        &app,
        &author_token,
        json!({"title": "Offre d'emploi", "kind": "emploi", "commune": "Nancy"}),
    )
    .await;
    let accounts: Vec<i64> = notified(&app, other).await.iter().map(|r| r.0).collect();
    assert_eq!(accounts.len(), 3, "all, twice and kind_no: {accounts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn instant_alerts_queue_a_mail_and_digest_ones_wait() {
    let app = new_app().await;
    let (_, author_token) = member(&app, "autrice").await;
    let (now_member, now_token) = member(&app, "pressee").await;
    let (daily_member, daily_token) = member(&app, "patiente").await;
    confirm_everyone(&app).await;
    // Two matching alerts: the one that mails soonest decides.
    alert(&app, &now_token, json!({"mail": "weekly"})).await;
    let instant = alert(
        &app,
        &now_token,
        json!({"kind": "formation", "mail": "instant"}),
    )
    .await;
    alert(&app, &daily_token, json!({"mail": "daily"})).await;

    let post = announce(
        &app,
        &author_token,
        json!({"title": "Stage de clown", "kind": "formation"}),
    )
    .await;
    let rows = notified(&app, post).await;
    assert_eq!(
        rows,
        vec![
            (now_member.id, Some(instant), "instant".to_string()),
            (daily_member.id, rows[1].1, "daily".to_string()),
        ]
    );
    let queued = queued_mails(&app).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    let (account, category, subject, unsubscribe) = &queued[0];
    assert_eq!(*account, Some(now_member.id));
    assert_eq!(category, "notification");
    assert!(subject.contains("Stage de clown"), "{subject}");
    let unsubscribe = unsubscribe.as_deref().expect("List-Unsubscribe");
    assert!(
        unsubscribe.contains(&format!("alert-{instant}")),
        "{unsubscribe}"
    );
}

/// Records `n` pending items of `delivery` for `account`, about a fresh announcement.
async fn pending(app: &TestApp, author_token: &str, account: i64, delivery: &str, title: &str) {
    let post = announce(app, author_token, json!({"title": title, "kind": "autre"})).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    culturecnous::db::notifications::insert_many(
        &mut conn,
        &[NewNotification {
            account_id: account,
            kind: "announcement".into(),
            actor_id: None,
            post_id: Some(post),
            comment_id: None,
            object_ap_id: None,
            alert_id: None,
            dedupe_key: None,
            delivery: delivery.into(),
            report_id: None,
            moderation_action_id: None,
            loan_request_id: None,
            venue_id: None,
            workspace_id: None,
            workspace_message_id: None,
            workspace_document_id: None,
            workspace_meeting_id: None,
            workspace_invitation_id: None,
        }],
    )
    .await
    .expect("notification");
}

async fn digest_mails(app: &TestApp) -> Vec<(Option<i64>, String)> {
    queued_mails(app)
        .await
        .into_iter()
        .filter(|m| m.1 == "digest")
        .map(|m| (m.0, m.2))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_runs_once_per_period_with_one_mail_per_member() {
    let app = new_app().await;
    let (_, author_token) = member(&app, "autrice").await;
    let (a, _) = member(&app, "alice").await;
    let (b, _) = member(&app, "bruno").await;
    let (w, _) = member(&app, "wanda").await;
    confirm_everyone(&app).await;
    pending(&app, &author_token, a.id, "daily", "Première").await;
    pending(&app, &author_token, a.id, "daily", "Deuxième").await;
    pending(&app, &author_token, b.id, "daily", "Troisième").await;
    pending(&app, &author_token, w.id, "weekly", "Quatrième").await;

    let now = Utc::now();
    let outcome = run_digest(&app.ctx, Period::Daily, now)
        .await
        .expect("digest");
    assert_eq!(
        outcome,
        DigestOutcome::Done {
            members: 2,
            mails: 2,
            items: 3
        }
    );
    let mails = digest_mails(&app).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[0].0, Some(a.id));
    assert!(mails[0].1.contains("(2)"), "{}", mails[0].1);
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        let (body, unsubscribe): (String, Option<String>) = mails::table
            .filter(mails::account_id.eq(a.id))
            .select((mails::text_body, mails::unsubscribe_url))
            .first(&mut conn)
            .await
            .expect("mail");
        assert!(
            body.contains("Première") && body.contains("Deuxième"),
            "{body}"
        );
        assert!(unsubscribe.expect("List-Unsubscribe").contains(".digest."));
    }

    // Again in the same period (a restart, another node): nothing more.
    let again = run_digest(&app.ctx, Period::Daily, now)
        .await
        .expect("digest");
    assert_eq!(again, DigestOutcome::AlreadyDone);
    assert_eq!(digest_mails(&app).await.len(), 2);

    // The weekly digest is its own: Wanda only.
    let weekly = run_digest(&app.ctx, Period::Weekly, now)
        .await
        .expect("digest");
    assert_eq!(
        weekly,
        DigestOutcome::Done {
            members: 1,
            mails: 1,
            items: 1
        }
    );
    // Next day: nothing pending, no mail, and the day is recorded.
    let tomorrow = now + chrono::Duration::days(1);
    let next = run_digest(&app.ctx, Period::Daily, tomorrow)
        .await
        .expect("digest");
    assert_eq!(
        next,
        DigestOutcome::Done {
            members: 0,
            mails: 0,
            items: 0
        }
    );
    assert_eq!(digest_mails(&app).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_digest_resumes_without_duplicates() {
    let app = new_app().await;
    let (_, author_token) = member(&app, "autrice").await;
    let (a, _) = member(&app, "alice").await;
    let (b, _) = member(&app, "bruno").await;
    confirm_everyone(&app).await;
    pending(&app, &author_token, a.id, "daily", "Première").await;
    pending(&app, &author_token, b.id, "daily", "Deuxième").await;
    // The run that was interrupted had served Alice (her mail queued, her items marked in
    // the same transaction) but not Bruno, and never recorded the period as done.
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::update(notifications::table.filter(notifications::account_id.eq(a.id)))
            .set(notifications::digested_at.eq(Utc::now()))
            .execute(&mut conn)
            .await
            .expect("mark");
    }
    let now = Utc::now();
    let outcome = run_digest(&app.ctx, Period::Daily, now)
        .await
        .expect("digest");
    assert_eq!(
        outcome,
        DigestOutcome::Done {
            members: 1,
            mails: 1,
            items: 1
        }
    );
    let mails = digest_mails(&app).await;
    assert_eq!(
        mails.iter().map(|m| m.0).collect::<Vec<_>>(),
        vec![Some(b.id)]
    );
    let left: i64 = {
        let mut conn = app.ctx.conn().await.expect("conn");
        notifications::table
            .filter(notifications::digested_at.is_null())
            .filter(notifications::delivery.eq("daily"))
            .count()
            .get_result(&mut conn)
            .await
            .expect("count")
    };
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_leaves_out_what_was_deleted_and_members_without_mail() {
    let app = new_app().await;
    let (_, author_token) = member(&app, "autrice").await;
    let (a, _) = member(&app, "alice").await;
    confirm_everyone(&app).await;
    let (unconfirmed, _) = member(&app, "bruno").await;
    pending(&app, &author_token, a.id, "daily", "Gardée").await;
    pending(&app, &author_token, a.id, "daily", "Supprimée").await;
    pending(&app, &author_token, unconfirmed.id, "daily", "Pour Bruno").await;
    {
        let mut conn = app.ctx.conn().await.expect("conn");
        diesel::sql_query("UPDATE posts SET deleted_at = now() WHERE title = 'Supprimée'")
            .execute(&mut conn)
            .await
            .expect("delete");
        // Accounts made by the test helpers are confirmed: Bruno never confirmed his address.
        diesel::sql_query("UPDATE accounts SET email_confirmed_at = NULL WHERE username = 'bruno'")
            .execute(&mut conn)
            .await
            .expect("unconfirm");
    }
    let outcome = run_digest(&app.ctx, Period::Daily, Utc::now())
        .await
        .expect("digest");
    assert_eq!(
        outcome,
        DigestOutcome::Done {
            members: 2,
            mails: 1,
            items: 1
        }
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let body: String = mails::table
        .filter(mails::category.eq("digest"))
        .select(mails::text_body)
        .first(&mut conn)
        .await
        .expect("mail");
    assert!(
        body.contains("Gardée") && !body.contains("Supprimée"),
        "{body}"
    );
}
