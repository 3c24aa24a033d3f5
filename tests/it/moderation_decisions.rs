//! Moderators' decisions on reports: each action on local and remote content, what federates,
//! the author's statement of reasons (notification, mail, page, appeal, notice), the reporter
//! told the outcome, roles and conflicts, the audit entries.

use crate::{
    common::TestApp,
    helpers::{
        Browser, api, latest_mail_to, local_actor, post_row, queued, remote_actor_row,
        remote_follower, rows_in, token,
    },
};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use culturecnous::{
    db::{
        self,
        moderation_actions::DbModerationAction,
        notifications::DbNotification,
        posts::NewRemotePost,
        schema::{accounts, moderation_actions, notifications},
    },
    service::moderation::{Reason, ReportInput, Reporter, reports},
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Value, json};
use url::Url;

const AGENDA: &str = "https://agenda.example.org/proposer";

async fn app() -> TestApp {
    TestApp::with_config(|c| c.moderation.redirect_url = AGENDA.to_string()).await
}

/// Every account's address confirmed (mails only go to confirmed addresses).
async fn confirm_emails(app: &TestApp) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(accounts::table)
        .set(accounts::email_confirmed_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .expect("confirm");
}

/// `username` publishes an announcement; its (id, ap_id).
async fn announcement(app: &TestApp, username: &str) -> (i64, String) {
    let t = token(app, username).await;
    let r = api(
        app,
        Method::POST,
        "/api/v1/announcements",
        &t,
        Some(json!({"title": "Spectacle samedi", "body": "Venez voir notre spectacle.", "kind": "pret_materiel"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    (
        v["id"].as_i64().expect("id"),
        v["ap_id"].as_str().expect("ap_id").to_string(),
    )
}

/// A report of `target` through the one reporting path.
async fn report(app: &TestApp, reporter: Reporter, target: &str) -> i64 {
    let input = ReportInput {
        reporter,
        targets: vec![Url::parse(target).expect("url")],
        reason: Reason::OffTopic,
        rule_ids: vec![],
        comment: "Ce n'est pas une annonce.".into(),
        forward: false,
    };
    let ctx = app.ctx.clone();
    let mut conn = app.ctx.conn().await.expect("conn");
    conn.transaction::<_, culturecnous::error::AppError, _>(async |conn| {
        reports::submit(&ctx, conn, input).await
    })
    .await
    .expect("submit")
    .expect("stored")
    .report
    .id
}

async fn member_reporter(app: &TestApp, username: &str) -> Reporter {
    let mut conn = app.ctx.conn().await.expect("conn");
    let account = db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account");
    Reporter::Member(Box::new(account))
}

/// A browser with a session of `username` (and its CSRF token).
async fn browser<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let account = db::accounts::by_login(&mut conn, username)
        .await
        .expect("query")
        .expect("account");
    Browser::with_session(app, &account).await
}

async fn resolve(app: &TestApp, token: &str, id: i64, body: Value) -> crate::common::TestResponse {
    api(
        app,
        Method::POST,
        &format!("/api/v1/admin/reports/{id}/resolve"),
        token,
        Some(body),
    )
    .await
}

async fn entries(app: &TestApp, report_id: i64) -> Vec<DbModerationAction> {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::moderation_actions::of_report(&mut conn, report_id)
        .await
        .expect("entries")
}

async fn notifications_of(app: &TestApp, username: &str) -> Vec<DbNotification> {
    let mut conn = app.ctx.conn().await.expect("conn");
    let id: i64 = accounts::table
        .filter(accounts::username.eq(username))
        .select(accounts::id)
        .first(&mut conn)
        .await
        .expect("account");
    notifications::table
        .filter(notifications::account_id.eq(id))
        .order(notifications::id)
        .select(DbNotification::as_select())
        .load(&mut conn)
        .await
        .expect("notifications")
}

async fn report_state(app: &TestApp, id: i64) -> String {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::reports::by_id(&mut conn, id)
        .await
        .expect("query")
        .expect("report")
        .state
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_removes_a_local_announcement_federates_delete_and_tells_author_and_reporter() {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    let moderator = app.create_user("modo", "moderator").await;
    confirm_emails(&app).await;
    let alice = local_actor(&app, "alice").await;
    remote_follower(&app, "masto.example", "m1", &alice).await;
    let (post_id, ap_id) = announcement(&app, "alice").await;
    let reporter = member_reporter(&app, "bob").await;
    let id = report(&app, reporter, &ap_id).await;

    // A member may not decide: 403, nothing changes.
    let tb = token(&app, "bob").await;
    let r = resolve(&app, &tb, id, json!({"action": "delete"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(report_state(&app, id).await, "open");
    assert!(post_row(&app, post_id).await.deleted_at.is_none());

    let tm = token(&app, "modo").await;
    // Bad input: nothing written.
    let r = resolve(&app, &tm, id, json!({"action": "erase"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "action");
    let r = resolve(
        &app,
        &tm,
        id,
        json!({"action": "redirect", "rule_ids": [999]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "rule_ids");
    assert_eq!(rows_in(&app, "moderation_actions").await, 0);
    assert_eq!(report_state(&app, id).await, "open");

    let rule = db::rules::current(&mut app.ctx.conn().await.expect("conn"))
        .await
        .expect("rules")
        .into_iter()
        .find(|r| r.text_fr.contains("agenda"))
        .expect("the agenda rule");
    let r = resolve(
        &app,
        &tm,
        id,
        json!({"action": "redirect", "rule_ids": [rule.id], "note": "Troisième fois ce mois-ci."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "resolved");
    assert_eq!(r.json()["resolution"], "redirect");
    assert_eq!(r.json()["resolved_by"], moderator.id);

    // Removed through the author's own deletion: Delete federates to the follower.
    assert!(post_row(&app, post_id).await.deleted_at.is_some());
    let deletes = queued(&app, "Delete").await;
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].0["object"]["id"], ap_id);
    assert_eq!(deletes[0].1, vec!["http://masto.example/inbox".to_string()]);

    // The audit entry: who, what, why.
    let log = entries(&app, id).await;
    assert_eq!(log.len(), 1);
    let entry = &log[0];
    assert_eq!(entry.moderator_account_id, Some(moderator.id));
    assert_eq!(entry.action, "redirect");
    assert_eq!(entry.affected_actor_id, Some(alice.id));
    assert_eq!(entry.post_id, Some(post_id));
    assert_eq!(entry.target, ap_id);
    assert_eq!(entry.rule_ids, vec![rule.id]);
    assert!(entry.statement.contains(AGENDA), "{}", entry.statement);
    assert_eq!(entry.note, "Troisième fois ce mois-ci.");

    // The author: a statement-of-reasons notification and its full mail, no unsubscribe.
    let theirs = notifications_of(&app, "alice").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].kind, "moderation_decision");
    assert_eq!(theirs[0].moderation_action_id, Some(entry.id));
    let mail = latest_mail_to(&app, "alice@example.org").await;
    assert_eq!(mail.category, "moderation_decision");
    assert!(mail.unsubscribe_url.is_none());
    for expected in [
        AGENDA,
        "Spectacle samedi",
        rule.text_fr.as_str(),
        &format!("/decisions/{}", entry.id),
        "Contenu retiré et réorienté",
    ] {
        assert!(
            mail.text_body.contains(expected),
            "{expected} in\n{}",
            mail.text_body
        );
    }
    assert!(!mail.text_body.contains("Troisième fois"));

    // The reporter: the outcome only.
    let bobs = notifications_of(&app, "bob").await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].kind, "report_outcome");
    assert_eq!(bobs[0].report_id, Some(id));
    let mail = latest_mail_to(&app, "bob@example.org").await;
    assert!(
        !mail.text_body.contains("Troisième fois"),
        "{}",
        mail.text_body
    );
    assert!(!mail.text_body.contains(AGENDA), "{}", mail.text_body);

    // Twice: a clear conflict naming who and when.
    let r = resolve(&app, &tm, id, json!({"action": "dismiss"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert!(
        r.json()["detail"]
            .as_str()
            .expect("detail")
            .contains("by modo on"),
        "{}",
        r.body
    );
    assert_eq!(entries(&app, id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn hide_keeps_a_post_for_its_author_only_and_a_moderator_shows_it_again() {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("modo", "moderator").await;
    let (post_id, ap_id) = announcement(&app, "alice").await;
    let id = report(
        &app,
        Reporter::Visitor {
            email: "passant@example.net".into(),
        },
        &ap_id,
    )
    .await;
    let tm = token(&app, "modo").await;
    let r = resolve(
        &app,
        &tm,
        id,
        json!({"action": "hide", "statement": "Propos déplacés."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let post = post_row(&app, post_id).await;
    assert!(post.hidden_at.is_some());
    assert!(post.deleted_at.is_none());
    assert!(!post.is_public());
    assert!(queued(&app, "Delete").await.is_empty());
    let entry = entries(&app, id).await.remove(0);
    assert_eq!(entry.statement, "Propos déplacés.");

    // The visitor who reported hears the outcome by mail, without the statement.
    let mail = latest_mail_to(&app, "passant@example.net").await;
    assert_eq!(mail.category, "report_outcome");
    assert!(
        mail.text_body.contains("Contenu masqué"),
        "{}",
        mail.text_body
    );
    assert!(!mail.text_body.contains("Propos déplacés"));

    // Reversible: the moderator's button on the decision page.
    let modo = browser(&app, "modo").await;
    let page = modo.get(&format!("/decisions/{}", entry.id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("/retablir"));
    let r = modo
        .submit_form(&format!("/admin/decisions/{}/retablir", entry.id), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(post_row(&app, post_id).await.hidden_at.is_none());
    let log = entries(&app, id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].action, "unhide");
    assert_eq!(log[1].post_id, Some(post_id));
    assert!(log[0].reverted_at.is_some());
    let r = modo
        .submit_form(&format!("/admin/decisions/{}/retablir", entry.id), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

/// A remote author `dave` and a post of his kept here.
async fn remote_post(app: &TestApp) -> (i64, String, i64) {
    let dave = remote_actor_row(app, "dave.example", "dave", true).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let id = db::posts::next_id(&mut conn).await.expect("id");
    let ap_id = "http://dave.example/notes/1".to_string();
    db::posts::insert_remote(
        &mut conn,
        &NewRemotePost {
            id,
            category: "post".into(),
            ap_id: ap_id.clone(),
            author_actor_id: dave.id,
            title: "Un article d'ailleurs".into(),
            slug: "un-article-d-ailleurs".into(),
            summary: String::new(),
            body_markdown: String::new(),
            body_html: "<p>Bonjour</p>".into(),
            hashtags: Vec::new(),
            kind: None,
            published_at: Some(Utc::now()),
            local: false,
            url: Some("http://dave.example/@dave/1".into()),
            content_warning: None,
        },
    )
    .await
    .expect("insert")
    .expect("new row");
    (id, ap_id, dave.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_content_is_removed_here_only_and_actions_apply_to_their_side() {
    let app = app().await;
    app.create_user("bob", "member").await;
    app.create_user("modo", "moderator").await;
    let tm = token(&app, "modo").await;
    let (post_id, ap_id, dave) = remote_post(&app).await;
    let reporter = member_reporter(&app, "bob").await;
    let id = report(&app, reporter.clone(), &ap_id).await;

    // A remote account is not suspended here, and a post report cannot "suspend" a local one.
    let r = resolve(&app, &tm, id, json!({"action": "suspend"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "action");
    assert_eq!(report_state(&app, id).await, "open");

    let r = resolve(&app, &tm, id, json!({"action": "delete"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(post_row(&app, post_id).await.deleted_at.is_some());
    // Not our object: nothing federates.
    assert_eq!(rows_in(&app, "activities").await, 0);
    let log = entries(&app, id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].affected_actor_id, Some(dave));
    // A remote author has no account here: no notification but bob's outcome.
    assert_eq!(rows_in(&app, "notifications").await, 2, "report + outcome");

    // A report naming only an account: neither hidden nor deleted; a local one is not blocked.
    app.create_user("alice", "member").await;
    let alice = local_actor(&app, "alice").await;
    let id = report(&app, reporter, &alice.ap_id).await;
    for (action, status) in [
        ("delete", StatusCode::UNPROCESSABLE_ENTITY),
        ("hide", StatusCode::UNPROCESSABLE_ENTITY),
        ("block", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = resolve(&app, &tm, id, json!({"action": action})).await;
        assert_eq!(r.status, status, "{action}: {}", r.body);
        assert_eq!(r.json()["field"], "action");
    }
    assert_eq!(report_state(&app, id).await, "open");
    assert!(entries(&app, id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn warn_shows_a_notice_until_read_and_the_author_appeals_once() {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("carol", "member").await;
    app.create_user("modo", "moderator").await;
    let (post_id, ap_id) = announcement(&app, "alice").await;
    let reporter = member_reporter(&app, "carol").await;
    let id = report(&app, reporter, &ap_id).await;

    // Through the report page's form; a bad action is a 422 naming the field.
    let modo = browser(&app, "modo").await;
    let r = modo
        .submit_form(
            &format!("/admin/signalements/{id}/decision"),
            &[("action", "erase")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("<strong>action</strong>"), "{}", r.body);
    assert_eq!(report_state(&app, id).await, "open");
    let r = modo
        .submit_form(
            &format!("/admin/signalements/{id}/decision"),
            &[
                ("action", "warn"),
                (
                    "statement",
                    "Merci de publier vos spectacles dans l'agenda.",
                ),
                ("note", "Premier avertissement."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("/admin/signalements/{id}").as_str())
    );
    // Nothing removed.
    assert!(post_row(&app, post_id).await.is_public());
    let entry = entries(&app, id).await.remove(0);
    assert_eq!(entry.action, "warn");

    // Twice through the form: a 409 page naming who.
    let r = modo
        .submit_form(
            &format!("/admin/signalements/{id}/decision"),
            &[("action", "dismiss")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("traité par modo le"), "{}", r.body);

    // The author sees the notice on every page until "J'ai lu".
    let alice = browser(&app, "alice").await;
    let home = alice.get("/").await;
    assert!(
        home.body
            .contains("Vous avez reçu un avertissement de la modération"),
        "{}",
        home.body
    );
    let decision = format!("/decisions/{}", entry.id);
    assert!(home.body.contains(&decision));
    let carol = browser(&app, "carol").await;
    assert!(
        !carol
            .get("/")
            .await
            .body
            .contains("avertissement de la modération")
    );
    // Only the author (and moderators) read the decision.
    assert_eq!(carol.get(&decision).await.status, StatusCode::NOT_FOUND);
    let page = alice.get(&decision).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Merci de publier vos spectacles dans l"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Premier avertissement"));
    assert!(page.body.contains(&format!("{decision}/recours")));

    // One appeal; moderators are told.
    let r = alice
        .submit_form(
            &format!("{decision}/recours"),
            &[("text", "C'était un prêt de matériel.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let modos = notifications_of(&app, "modo").await;
    let appeal = modos
        .iter()
        .find(|n| n.kind == "appeal")
        .expect("appeal notification");
    assert_eq!(appeal.moderation_action_id, Some(entry.id));
    assert_eq!(appeal.report_id, Some(id));
    let r = alice
        .submit_form(&format!("{decision}/recours"), &[("text", "Encore.")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("un seul recours"), "{}", r.body);
    assert_eq!(rows_in(&app, "appeals").await, 1);
    let r = alice
        .submit_form(&format!("{decision}/recours"), &[("text", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The moderator rejects it; the author is told.
    let r = modo
        .submit_form(
            &format!("{decision}/recours/reponse"),
            &[
                ("outcome", "reject"),
                ("decision_text", "C'est bien un spectacle."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let log = entries(&app, id).await;
    assert_eq!(log.last().expect("answer").action, "appeal_rejected");
    let theirs = notifications_of(&app, "alice").await;
    assert_eq!(theirs.len(), 2);
    assert_eq!(
        theirs[1].moderation_action_id,
        Some(log.last().expect("answer").id)
    );

    // "J'ai lu": the warning's notice goes, the answer's shows next.
    let r = alice
        .submit_form(&format!("{decision}/lu"), &[("next", "/")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let home = alice.get("/").await;
    assert!(!home.body.contains("Vous avez reçu un avertissement"));
    assert!(
        home.body
            .contains("Une décision de modération vous concerne")
    );
    let answer = log.last().expect("answer").id;
    let r = alice
        .submit_form(&format!("/decisions/{answer}/lu"), &[("next", "/")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!alice.get("/").await.body.contains("moderation-notice"));
    // Someone else's decision cannot be acknowledged.
    let r = carol
        .submit_form(&format!("{decision}/lu"), &[("next", "/")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mut conn = app.ctx.conn().await.expect("conn");
    let acknowledged: Option<chrono::DateTime<Utc>> = moderation_actions::table
        .find(entry.id)
        .select(moderation_actions::acknowledged_at)
        .first(&mut conn)
        .await
        .expect("entry");
    assert!(acknowledged.is_some());
}

/// alice's announcement, reported by a visitor and hidden by modo: (app, post id, report id,
/// modo's token).
async fn hidden_announcement() -> (TestApp, i64, i64, String) {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("modo", "moderator").await;
    let (post_id, ap_id) = announcement(&app, "alice").await;
    let id = report(
        &app,
        Reporter::Visitor {
            email: "passant@example.net".into(),
        },
        &ap_id,
    )
    .await;
    let tm = token(&app, "modo").await;
    let r = resolve(&app, &tm, id, json!({"action": "hide"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (app, post_id, id, tm)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_appeal_against_a_hide_shows_the_content_again() {
    let (app, post_id, id, _) = hidden_announcement().await;
    let entry = entries(&app, id).await.remove(0);
    let alice = browser(&app, "alice").await;
    let decision = format!("/decisions/{}", entry.id);
    let r = alice
        .submit_form(&format!("{decision}/recours"), &[("text", "Erreur.")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let modo = browser(&app, "modo").await;
    let r = modo
        .submit_form(
            &format!("{decision}/recours/reponse"),
            &[("outcome", "grant"), ("decision_text", "Vous avez raison.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(post_row(&app, post_id).await.is_public());
    let log = entries(&app, id).await;
    assert_eq!(log.last().expect("answer").action, "appeal_granted");
    assert!(log[0].reverted_at.is_some());
    // Answered once.
    let r = modo
        .submit_form(
            &format!("{decision}/recours/reponse"),
            &[("outcome", "reject"), ("decision_text", "Non.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

/// Suspension is the `sanctions` side's: this passes once it is merged.
#[tokio::test(flavor = "multi_thread")]
async fn suspend_a_local_account_from_a_report() {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("chef", "admin").await;
    let alice = local_actor(&app, "alice").await;
    let reporter = member_reporter(&app, "bob").await;
    let id = report(&app, reporter, &alice.ap_id).await;
    let ta = token(&app, "chef").await;
    let r = resolve(
        &app,
        &ta,
        id,
        json!({"action": "suspend", "statement": "Harcèlement."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let account = db::accounts::by_actor_id(&mut conn, alice.id)
        .await
        .expect("query")
        .expect("account");
    assert!(account.suspended_at.is_some());
    let log = entries(&app, id).await;
    assert_eq!(log[0].action, "suspend");
    assert_eq!(log[0].affected_actor_id, Some(alice.id));
    // The statement of reasons is owed even though the account can no longer log in: its
    // link carries a key that opens this decision, for her, without a session.
    let mail = latest_mail_to(&app, "alice@example.org").await;
    assert_eq!(mail.category, "moderation_decision");
    assert!(
        mail.text_body.contains("Harcèlement."),
        "{}",
        mail.text_body
    );
    let decision = log[0].id;
    let prefix = app
        .ctx
        .urls
        .absolute(&format!("/decisions/{decision}?cle="));
    let start = mail
        .text_body
        .find(&prefix)
        .expect("keyed link in the mail");
    let link: String = mail.text_body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let key = link[prefix.len()..].to_string();
    let path = format!("/decisions/{decision}?cle={key}");
    let visitor = Browser::new(&app);
    let page = visitor.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("name=\"cle\""), "{}", page.body);
    // A wrong key, or none, opens nothing.
    let (account_part, sig) = key.split_once('.').expect("key shape");
    let other = (account_part.parse::<i64>().expect("id") + 1).to_string();
    let r = visitor
        .get(&format!("/decisions/{decision}?cle={other}.{sig}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = visitor.get(&format!("/decisions/{decision}")).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "a visitor is asked to log in"
    );
    // She appeals with the key; moderators are told.
    let csrf = visitor.csrf(&path).await;
    let r = visitor
        .post_form(
            &format!("/decisions/{decision}/recours"),
            &[
                ("csrf_token", csrf.as_str()),
                ("text", "Je conteste."),
                ("cle", key.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let appeal = db::moderation_actions::appeal_of(&mut conn, decision)
        .await
        .expect("query")
        .expect("appeal stored");
    assert_eq!(appeal.account_id, account.id);
    let told = notifications_of(&app, "chef").await;
    assert_eq!(told.iter().filter(|n| n.kind == "appeal").count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_local_comment_federates_its_delete() {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("modo", "moderator").await;
    let bob = local_actor(&app, "bob").await;
    remote_follower(&app, "masto.example", "m1", &bob).await;
    let (post_id, ap_id) = announcement(&app, "alice").await;
    let tb = token(&app, "bob").await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/comments",
        &tb,
        Some(json!({"in_reply_to": ap_id, "body": "Achetez mes montres !"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let comment_ap_id = r.json()["ap_id"].as_str().expect("ap_id").to_string();
    let reporter = member_reporter(&app, "alice").await;
    let id = report(&app, reporter, &comment_ap_id).await;
    let tm = token(&app, "modo").await;
    let r = resolve(&app, &tm, id, json!({"action": "delete"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let deletes = queued(&app, "Delete").await;
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].0["object"]["id"], comment_ap_id);
    assert!(
        post_row(&app, post_id).await.is_public(),
        "only the comment goes"
    );
    let entry = entries(&app, id).await.remove(0);
    assert!(entry.comment_id.is_some());
    assert_eq!(entry.affected_actor_id, Some(bob.id));
    assert_eq!(
        notifications_of(&app, "bob").await[0].kind,
        "moderation_decision"
    );
}

/// Sending the outcome back is the `flag` side's translation: this passes once it is merged.
#[tokio::test(flavor = "multi_thread")]
async fn the_outcome_of_a_remote_report_is_sent_back_when_asked() {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("modo", "moderator").await;
    let (_, ap_id) = announcement(&app, "alice").await;
    let instance = remote_actor_row(&app, "masto.example", "masto.example", true).await;
    let id = report(
        &app,
        Reporter::Remote {
            actor_id: instance.id,
            flag_id: Url::parse("http://masto.example/flags/1").expect("url"),
            domain: "masto.example".into(),
        },
        &ap_id,
    )
    .await;
    let tm = token(&app, "modo").await;
    let before = rows_in(&app, "activities").await;
    let r = resolve(
        &app,
        &tm,
        id,
        json!({"action": "hide", "send_outcome": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let log = entries(&app, id).await;
    let sent = log
        .iter()
        .find(|e| e.action == "outcome_sent")
        .expect("an outcome_sent entry");
    assert_eq!(sent.target, "masto.example");
    assert!(
        rows_in(&app, "activities").await > before,
        "the outcome is queued"
    );
}

/// Every form that follows a report or a decision has its API twin: notes, assignment, the
/// author's decision (read, acknowledged, appealed), the moderators' answer, unhide.
#[tokio::test(flavor = "multi_thread")]
async fn the_follow_up_forms_have_their_api_twins() {
    let app = app().await;
    app.create_user("alice", "member").await;
    app.create_user("bob", "member").await;
    app.create_user("modo", "moderator").await;
    let (post_id, ap_id) = announcement(&app, "alice").await;
    let id = report(&app, member_reporter(&app, "bob").await, &ap_id).await;
    let (tm, ta, tb) = (
        token(&app, "modo").await,
        token(&app, "alice").await,
        token(&app, "bob").await,
    );
    let post = |path: String, t: String, body: Value| {
        let app = &app;
        async move { api(app, Method::POST, &path, &t, Some(body)).await }
    };

    // Notes and assignment: moderators only, fields named.
    let r = post(
        format!("/api/v1/admin/reports/{id}/notes"),
        tm.clone(),
        json!({"body": "Vu."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = post(
        format!("/api/v1/admin/reports/{id}/notes"),
        tm.clone(),
        json!({"body": " "}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("\"body\""), "{}", r.body);
    let r = post(
        format!("/api/v1/admin/reports/{id}/notes"),
        tb.clone(),
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        format!("/api/v1/admin/reports/{id}/assign"),
        tm.clone(),
        json!({"assignee": "bob"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("assignee"), "{}", r.body);
    let r = post(
        format!("/api/v1/admin/reports/{id}/assign"),
        tm.clone(),
        json!({"assignee": "modo"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["assigned_to"].is_i64());

    // The decision, as its author reads it; nobody else but moderators.
    let r = resolve(
        &app,
        &tm,
        id,
        json!({"action": "hide", "statement": "Hors sujet."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let decision = entries(&app, id)
        .await
        .into_iter()
        .find(|e| e.action == "hide")
        .expect("hide entry")
        .id;
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/decisions/{decision}"),
        &ta,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let view = r.json();
    assert_eq!(view["action"], "hide");
    assert!(
        view["statement"]
            .as_str()
            .is_some_and(|s| s.contains("Hors sujet."))
    );
    assert_eq!(view["appealable"], true);
    assert_eq!(view["acknowledged"], false);
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/decisions/{decision}"),
        &tb,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(
        format!("/api/v1/decisions/{decision}/read"),
        ta.clone(),
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/decisions/{decision}"),
        &ta,
        None,
    )
    .await;
    assert_eq!(r.json()["acknowledged"], true);

    // One appeal, then the moderators' answer: granted, the post is public again.
    let r = post(
        format!("/api/v1/decisions/{decision}/appeal"),
        ta.clone(),
        json!({"text": "Ce n'est pas un spectacle."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["state"], "open");
    let r = post(
        format!("/api/v1/decisions/{decision}/appeal"),
        ta.clone(),
        json!({"text": "Encore."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = post(
        format!("/api/v1/admin/decisions/{decision}/appeal"),
        ta.clone(),
        json!({"grant": true, "text": "Moi-même."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!post_row(&app, post_id).await.is_public());
    let r = post(
        format!("/api/v1/admin/decisions/{decision}/appeal"),
        tm.clone(),
        json!({"grant": true, "text": "D'accord."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "granted");
    assert!(post_row(&app, post_id).await.is_public());
    // Shown again already: unhide has nothing left to undo.
    let r = post(
        format!("/api/v1/admin/decisions/{decision}/unhide"),
        tm.clone(),
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

/// Unhide through the API shows a hidden post again and logs it.
#[tokio::test(flavor = "multi_thread")]
async fn a_moderator_unhides_through_the_api() {
    let (app, post_id, id, tm) = hidden_announcement().await;
    assert!(!post_row(&app, post_id).await.is_public());
    let decision = entries(&app, id).await.remove(0).id;
    let path = format!("/api/v1/admin/decisions/{decision}/unhide");
    let r = api(&app, Method::POST, &path, &token(&app, "alice").await, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api(&app, Method::POST, &path, &tm, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["action"], "unhide");
    assert!(post_row(&app, post_id).await.is_public());
}
