//! The mail queue and its transports: lettre against a real SMTP server started by the test
//! (`smtp_server`), and the `.eml` file sink. Tests send with `mail::send_due` (what the worker
//! runs) instead of waiting for the worker, except the one that checks the worker itself.

use crate::{
    common::TestApp,
    helpers::{Browser, api, token},
    smtp_server::SmtpServer,
};
use axum::http::{Method, StatusCode};
use culturecnous::{
    context::AppContext,
    db::{self, mails::DbMail, pool},
    i18n::Lang,
    service::{
        mail::{
            self, MailBody, MailCategory, OutgoingMail, SendReport,
            unsubscribe::{self, Scope},
        },
        notifications::NotificationKind,
    },
    testing::TestDatabases,
};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use mailparse::MailHeaderMap;

fn outgoing(to: &str, subject: &str) -> OutgoingMail {
    let body = MailBody {
        greeting: "Bonjour Léa,".into(),
        paragraphs: vec!["Camille a répondu à « Résidence d'été » : « Avec plaisir ! »".into()],
        action: Some((
            "Lire la réponse".into(),
            "http://localhost:8080/annonces/1#commentaire-2".into(),
        )),
        footer: vec![
            "Vous recevez ce courriel car vous avez choisi d'être prévenue des réponses.".into(),
        ],
    };
    let (text, html) = body.render(Lang::Fr, "cultureCnous");
    OutgoingMail {
        account_id: None,
        to: to.into(),
        lang: Lang::Fr,
        category: MailCategory::ConfirmEmail,
        subject: subject.into(),
        text,
        html,
        unsubscribe_url: None,
    }
}

async fn queue(app: &TestApp, mail: OutgoingMail) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    mail::enqueue(&mut conn, &app.ctx, mail)
        .await
        .expect("enqueue")
}

async fn row(app: &TestApp, id: i64) -> DbMail {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::mails::by_id(&mut conn, id).await.expect("mail row")
}

async fn sql(app: &TestApp, statement: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(statement)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Seconds from now until the mail's next attempt, as the database sees it.
async fn seconds_until_next_attempt(app: &TestApp, id: i64) -> f64 {
    #[derive(QueryableByName)]
    struct Secs {
        #[diesel(sql_type = diesel::sql_types::Double)]
        s: f64,
    }
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(
        "SELECT EXTRACT(EPOCH FROM next_attempt_at - now())::float8 AS s FROM mails WHERE id = $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .get_result::<Secs>(&mut conn)
    .await
    .expect("delay")
    .s
}

async fn send(app: &TestApp) -> SendReport {
    mail::send_due(&app.ctx).await.expect("send due mails")
}

fn sent(n: usize) -> SendReport {
    SendReport {
        sent: n,
        ..SendReport::default()
    }
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    listener.local_addr().expect("address")
}

/// Another context on the same database and configuration: a second node, or the same node
/// after a restart.
fn second_context(app: &TestApp) -> AppContext {
    let config = app.ctx.config.clone();
    let pool = pool::build_pool(&config.database.url, 4).expect("pool");
    AppContext::new(config, pool)
}

fn body_of(part: &mailparse::ParsedMail<'_>) -> String {
    part.get_body().expect("decoded body")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mail_arrives_once_with_both_parts_and_its_headers() {
    let server = SmtpServer::start().await;
    let app = TestApp::with_config(|c| c.mail.smtp_url = server.url()).await;
    let lea = app.create_user("lea", "member").await;
    let link = {
        let mut conn = app.ctx.conn().await.expect("conn");
        unsubscribe::link(
            &app.ctx,
            &mut conn,
            lea.id,
            Scope::Kind(NotificationKind::Reply),
        )
        .await
        .expect("link")
    };
    let mut mail = outgoing("lea@example.org", "Camille a répondu à votre annonce");
    mail.account_id = Some(lea.id);
    mail.category = MailCategory::Notification;
    mail.unsubscribe_url = Some(link.clone());
    let id = queue(&app, mail).await;

    assert_eq!(send(&app).await, sent(1));
    let got = server.received();
    assert_eq!(got.len(), 1, "exactly one message");
    assert_eq!(got[0].rcpt_to, ["lea@example.org"]);
    assert_eq!(got[0].mail_from, "noreply@localhost");
    let parsed = got[0].parsed();
    let headers = &parsed.headers;
    let stored = row(&app, id).await;
    assert_eq!(
        headers.get_first_value("Message-ID"),
        Some(stored.message_id.clone())
    );
    assert_eq!(
        headers.get_first_value("Subject").as_deref(),
        Some("Camille a répondu à votre annonce")
    );
    assert_eq!(
        headers.get_first_value("From").as_deref(),
        Some("cultureCnous <noreply@localhost>")
    );
    assert_eq!(
        headers.get_first_value("Content-Language").as_deref(),
        Some("fr")
    );
    assert_eq!(
        headers.get_first_value("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        headers.get_first_value("List-Unsubscribe"),
        Some(format!("<{link}>"))
    );
    assert_eq!(
        headers.get_first_value("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
    assert_eq!(parsed.subparts.len(), 2);
    assert_eq!(parsed.subparts[0].ctype.mimetype, "text/plain");
    assert_eq!(parsed.subparts[1].ctype.mimetype, "text/html");
    let text = body_of(&parsed.subparts[0]);
    let html = body_of(&parsed.subparts[1]);
    assert!(
        text.contains("Camille a répondu à « Résidence d'été »"),
        "{text}"
    );
    assert!(
        text.contains("http://localhost:8080/annonces/1#commentaire-2"),
        "{text}"
    );
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(
        html.contains("href=\"http://localhost:8080/annonces/1#commentaire-2\""),
        "{html}"
    );
    assert!(
        html.contains("r&eacute;pondu") || html.contains("répondu"),
        "{html}"
    );

    assert_eq!(stored.state, "sent");
    assert!(stored.sent_at.is_some());
    assert_eq!(stored.attempts, 1);
    assert!(stored.claimed_at.is_none());
    // Nothing more to send: the mail never goes out twice.
    assert_eq!(send(&app).await, SendReport::default());
    assert_eq!(server.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_down_delays_mails_without_losing_them() {
    let addr = closed_port().await;
    let app = TestApp::with_config(|c| c.mail.smtp_url = format!("smtp://{addr}")).await;
    let id = queue(&app, outgoing("lea@example.org", "Confirmez votre adresse")).await;

    let report = send(&app).await;
    assert_eq!(report.retrying, 1, "{report:?}");
    let first = row(&app, id).await;
    assert_eq!(first.state, "queued");
    assert_eq!(first.attempts, 1);
    assert!(first.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert!(first.claimed_at.is_none());
    let delay = seconds_until_next_attempt(&app, id).await;
    assert!(
        (30.0..=60.0).contains(&delay),
        "first retry after a minute: {delay}"
    );
    // Not due yet: nothing is tried.
    assert_eq!(send(&app).await, SendReport::default());

    // Due again, still down: the delay doubles.
    sql(
        &app,
        &format!("UPDATE mails SET next_attempt_at = now() WHERE id = {id}"),
    )
    .await;
    assert_eq!(send(&app).await.retrying, 1);
    assert_eq!(row(&app, id).await.attempts, 2);
    let delay = seconds_until_next_attempt(&app, id).await;
    assert!(
        (90.0..=120.0).contains(&delay),
        "second retry after two minutes: {delay}"
    );

    // The server comes back; the mail goes out once when due.
    let server = SmtpServer::start_on(addr).await;
    sql(
        &app,
        &format!("UPDATE mails SET next_attempt_at = now() WHERE id = {id}"),
    )
    .await;
    assert_eq!(send(&app).await, sent(1));
    assert_eq!(send(&app).await, SendReport::default());
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].parsed().headers.get_first_value("Message-ID"),
        Some(first.message_id)
    );
    let done = row(&app, id).await;
    assert_eq!(done.state, "sent");
    assert_eq!(done.attempts, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn mails_failing_for_three_days_are_given_up() {
    let addr = closed_port().await;
    let app = TestApp::with_config(|c| c.mail.smtp_url = format!("smtp://{addr}")).await;
    let id = queue(&app, outgoing("lea@example.org", "Récapitulatif")).await;
    sql(
        &app,
        &format!("UPDATE mails SET created_at = now() - interval '73 hours', attempts = 20 WHERE id = {id}"),
    )
    .await;
    assert_eq!(
        send(&app).await,
        SendReport {
            failed: 1,
            ..SendReport::default()
        }
    );
    let given_up = row(&app, id).await;
    assert_eq!(given_up.state, "failed");
    assert!(given_up.failed_at.is_some());
    assert!(given_up.last_error.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_recipient_fails_at_once_with_the_reason_and_is_never_retried() {
    let server = SmtpServer::start().await;
    server.refuse("nobody@example.org");
    let app = TestApp::with_config(|c| c.mail.smtp_url = server.url()).await;
    let refused = queue(&app, outgoing("nobody@example.org", "Mot de passe oublié")).await;
    let fine = queue(&app, outgoing("lea@example.org", "Mot de passe oublié")).await;

    assert_eq!(
        send(&app).await,
        SendReport {
            sent: 1,
            failed: 1,
            ..SendReport::default()
        }
    );
    let failed = row(&app, refused).await;
    assert_eq!(failed.state, "failed");
    assert!(failed.failed_at.is_some());
    let reason = failed.last_error.clone().expect("a reason");
    assert!(reason.contains("550"), "{reason}");
    assert!(reason.contains("Recipient address rejected"), "{reason}");
    assert_eq!(row(&app, fine).await.state, "sent");

    // Never retried, even when its time comes.
    sql(
        &app,
        &format!(
            "UPDATE mails SET next_attempt_at = now() - interval '1 day' WHERE id = {refused}"
        ),
    )
    .await;
    assert_eq!(send(&app).await, SendReport::default());
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["lea@example.org"]);
    assert_eq!(row(&app, refused).await.attempts, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_address_fails_without_reaching_the_server() {
    let server = SmtpServer::start().await;
    let app = TestApp::with_config(|c| c.mail.smtp_url = server.url()).await;
    let id = queue(&app, outgoing("not an address", "Bienvenue")).await;
    assert_eq!(send(&app).await.failed, 1);
    let failed = row(&app, id).await;
    assert_eq!(failed.state, "failed");
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("invalid recipient address"),
        "{:?}",
        failed.last_error
    );
    assert!(server.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_sink_writes_each_mail_once_as_a_parseable_eml() {
    let app = TestApp::new().await;
    assert!(
        app.ctx.config.mail.smtp_url.is_empty(),
        "the default is the file sink"
    );
    let id = queue(&app, outgoing("lea@example.org", "Confirmez votre adresse")).await;
    assert_eq!(send(&app).await, sent(1));

    let dir = app.ctx.config.storage.data_dir.join("outbox-mail");
    let files = || -> Vec<std::path::PathBuf> {
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("outbox-mail folder")
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        names
    };
    let written = files();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let bytes = std::fs::read(&written[0]).expect("read the .eml");
    let parsed = mailparse::parse_mail(&bytes).expect("a parseable .eml");
    let stored = row(&app, id).await;
    assert_eq!(
        parsed.headers.get_first_value("Message-ID"),
        Some(stored.message_id)
    );
    assert_eq!(
        parsed.headers.get_first_value("Subject").as_deref(),
        Some("Confirmez votre adresse")
    );
    assert_eq!(
        parsed.headers.get_first_value("To").as_deref(),
        Some("lea@example.org")
    );
    assert_eq!(parsed.subparts.len(), 2);
    assert!(body_of(&parsed.subparts[0]).contains("Bonjour Léa,"));
    assert!(parsed.headers.get_first_value("List-Unsubscribe").is_none());
    assert_eq!(stored.state, "sent");

    // Sent again (as after a crash before the row was marked): the same file, replaced.
    sql(
        &app,
        &format!("UPDATE mails SET state = 'queued', sent_at = NULL WHERE id = {id}"),
    )
    .await;
    assert_eq!(send(&app).await, sent(1));
    assert_eq!(
        files(),
        written,
        "one file per mail, no temporary file left"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_node_never_resends_a_sent_mail_and_takes_over_abandoned_claims() {
    let server = SmtpServer::start().await;
    let app = TestApp::with_config(|c| c.mail.smtp_url = server.url()).await;
    for i in 0..3 {
        queue(&app, outgoing(&format!("m{i}@example.org"), "Bienvenue")).await;
    }
    assert_eq!(send(&app).await, sent(3));

    // The same database after a restart: nothing goes out again.
    let restarted = second_context(&app);
    assert_eq!(
        mail::send_due(&restarted).await.expect("send"),
        SendReport::default()
    );
    assert_eq!(server.received().len(), 3);

    // A mail claimed by a node that died mid-send stays with it until its lease ends…
    let id = queue(&app, outgoing("late@example.org", "Bienvenue")).await;
    sql(
        &app,
        &format!("UPDATE mails SET claimed_at = now() WHERE id = {id}"),
    )
    .await;
    assert_eq!(
        mail::send_due(&restarted).await.expect("send"),
        SendReport::default()
    );
    // …then another node sends it, once.
    sql(
        &app,
        &format!("UPDATE mails SET claimed_at = now() - interval '16 minutes' WHERE id = {id}"),
    )
    .await;
    assert_eq!(mail::send_due(&restarted).await.expect("send"), sent(1));
    assert_eq!(send(&app).await, SendReport::default());
    assert_eq!(server.received().len(), 4);
    restarted.pool.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_senders_never_send_a_mail_twice() {
    let server = SmtpServer::start().await;
    let app = TestApp::with_config(|c| c.mail.smtp_url = server.url()).await;
    let n = 40;
    for i in 0..n {
        queue(
            &app,
            outgoing(&format!("m{i}@example.org"), "Récapitulatif"),
        )
        .await;
    }
    let other = second_context(&app);
    let (a, b, c) = tokio::join!(
        mail::send_due(&app.ctx),
        mail::send_due(&other),
        mail::send_due(&app.ctx)
    );
    let total: usize = [a, b, c].into_iter().map(|r| r.expect("send").sent).sum();
    assert_eq!(total, n);
    let got = server.received();
    assert_eq!(got.len(), n);
    let mut ids: Vec<String> = got
        .iter()
        .map(|m| {
            m.parsed()
                .headers
                .get_first_value("Message-ID")
                .expect("Message-ID")
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "every Message-ID once");
    other.pool.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_of_a_running_instance_sends_what_is_queued() {
    let server = SmtpServer::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let mut config = TestDatabases::get().config(port).await;
    config.mail.smtp_url = server.url();
    let database_url = config.database.url.clone();
    let instance = culturecnous::start_with_listener(config, listener)
        .await
        .expect("start the instance");
    let id = {
        let mut conn = instance.ctx.conn().await.expect("conn");
        mail::enqueue(
            &mut conn,
            &instance.ctx,
            outgoing("lea@example.org", "Bienvenue"),
        )
        .await
        .expect("enqueue")
    };
    // Woken by the notification sent at commit (or its next look at the queue).
    let message = server.next_message().await;
    assert_eq!(message.rcpt_to, ["lea@example.org"]);
    // Shutdown lets the worker finish: the mail is then recorded as sent.
    instance.shutdown().await;
    let pool = pool::build_pool(&database_url, 1).expect("pool");
    let mut conn = pool.get().await.expect("conn");
    let stored = db::mails::by_id(&mut conn, id).await.expect("row");
    assert_eq!(stored.state, "sent");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn old_sent_mails_are_purged_and_failed_ones_kept_longer() {
    let app = TestApp::new().await;
    let old_sent = queue(&app, outgoing("a@example.org", "x")).await;
    let recent_sent = queue(&app, outgoing("b@example.org", "x")).await;
    let old_failed = queue(&app, outgoing("c@example.org", "x")).await;
    let queued = queue(&app, outgoing("d@example.org", "x")).await;
    sql(&app, &format!("UPDATE mails SET state = 'sent', sent_at = now() - interval '31 days' WHERE id = {old_sent}")).await;
    sql(&app, &format!("UPDATE mails SET state = 'sent', sent_at = now() - interval '29 days' WHERE id = {recent_sent}")).await;
    sql(&app, &format!("UPDATE mails SET state = 'failed', failed_at = now() - interval '31 days' WHERE id = {old_failed}")).await;
    sql(
        &app,
        &format!("UPDATE mails SET created_at = now() - interval '60 days' WHERE id = {queued}"),
    )
    .await;
    assert_eq!(mail::worker::maintain(&app.ctx).await.expect("purge"), 1);
    let mut conn = app.ctx.conn().await.expect("conn");
    assert!(db::mails::by_id(&mut conn, old_sent).await.is_err());
    for id in [recent_sent, old_failed, queued] {
        db::mails::by_id(&mut conn, id).await.expect("kept");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_see_the_failed_mails_with_their_reason() {
    let server = SmtpServer::start().await;
    server.refuse("nobody@example.org");
    let app = TestApp::with_config(|c| c.mail.smtp_url = server.url()).await;
    app.create_user("admin_culture", "admin").await;
    app.create_user("lea", "member").await;
    app.create_user("modo", "moderator").await;
    queue(&app, outgoing("nobody@example.org", "Mot de passe oublié")).await;
    queue(&app, outgoing("lea@example.org", "Bienvenue")).await;
    queue(&app, outgoing("later@example.org", "Bienvenue")).await;
    sql(&app, "UPDATE mails SET next_attempt_at = now() + interval '1 hour' WHERE to_address = 'later@example.org'").await;
    send(&app).await;

    let admin = token(&app, "admin_culture").await;
    let r = api(
        &app,
        Method::GET,
        "/api/v1/admin/mails?state=failed",
        &admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let json = r.json();
    assert_eq!(json["counts"]["failed"], 1);
    assert_eq!(json["counts"]["sent"], 1);
    assert_eq!(json["counts"]["queued"], 1);
    assert_eq!(json["state"], "failed");
    let items = json["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["to"], "nobody@example.org");
    assert_eq!(items[0]["subject"], "Mot de passe oublié");
    assert!(
        items[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("550") && e.contains("Recipient address rejected")),
        "{}",
        items[0]
    );
    let r = api(
        &app,
        Method::GET,
        "/api/v1/admin/mails?state=queued",
        &admin,
        None,
    )
    .await;
    assert_eq!(r.json()["items"][0]["to"], "later@example.org");
    assert!(r.json()["items"][0]["next_attempt_at"].is_string());

    for (query, field) in [
        ("state=lost", "state"),
        ("limit=0", "limit"),
        ("limit=lots", "limit"),
    ] {
        let r = api(
            &app,
            Method::GET,
            &format!("/api/v1/admin/mails?{query}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.body
        );
        assert_eq!(r.json()["field"], field);
    }
    for user in ["lea", "modo"] {
        let t = token(&app, user).await;
        let r = api(&app, Method::GET, "/api/v1/admin/mails", &t, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
    }

    // The page: reachable from the overview, with the recipient and the reason.
    let browser = Browser::logged_in(&app, "admin_culture").await;
    let overview = browser.get("/admin").await;
    assert!(
        overview.body.contains("href=\"/admin/courriels\""),
        "{}",
        overview.body
    );
    let page = browser.get("/admin/courriels").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("nobody@example.org"));
    assert!(page.body.contains("Recipient address rejected"));
    assert!(page.body.contains("<th scope=\"col\">Destinataire</th>"));
    assert!(
        !page.body.contains("lea@example.org"),
        "only failed mails are listed"
    );
    let sent_page = browser.get("/admin/courriels?state=sent").await;
    assert!(sent_page.body.contains("lea@example.org"));
    let modo = Browser::logged_in(&app, "modo").await;
    assert_eq!(
        modo.get("/admin/courriels").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_the_admin_mail_route() {
    let app = TestApp::new().await;
    let r = app.get("/api/v1/openapi.json", "application/json").await;
    let doc = r.json();
    let op = &doc["paths"]["/api/v1/admin/mails"]["get"];
    assert!(op.is_object(), "{}", doc["paths"]);
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, ["state", "limit"]);
    assert!(doc["components"]["schemas"]["MailItem"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mail_pages_pass_the_mechanical_accessibility_checks() {
    let server = SmtpServer::start().await;
    server.refuse("nobody@example.org");
    let app = TestApp::with_config(|c| c.mail.smtp_url = server.url()).await;
    let admin = app.create_user("admin_culture", "admin").await;
    queue(&app, outgoing("nobody@example.org", "Mot de passe oublié")).await;
    queue(&app, outgoing("lea@example.org", "Bienvenue")).await;
    send(&app).await;
    let link = {
        let mut conn = app.ctx.conn().await.expect("conn");
        unsubscribe::link(&app.ctx, &mut conn, admin.id, Scope::Digest)
            .await
            .expect("link")
    };
    let path = link.replace("http://localhost:8080", "");
    let browser = Browser::logged_in(&app, "admin_culture").await;
    let mut pages = Vec::new();
    for state in ["failed", "queued", "sent"] {
        let url = format!("/admin/courriels?state={state}");
        pages.push((url.clone(), browser.get(&url).await));
    }
    pages.push(("/admin".to_string(), browser.get("/admin").await));
    pages.push(("unsubscribe page".to_string(), app.get_html(&path).await));
    let done = app
        .send(
            axum::http::Request::builder()
                .method(Method::POST)
                .uri(&path)
                .header(axum::http::header::ACCEPT, "text/html")
                .body(axum::body::Body::from("List-Unsubscribe=One-Click"))
                .expect("request"),
        )
        .await;
    pages.push(("unsubscribed page".to_string(), done));
    assert!(pages[0].1.body.contains("nobody@example.org"));
    assert!(pages[2].1.body.contains("lea@example.org"));
    crate::accessibility::assert_accessible(&pages);
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_mails_queue_in_one_call_and_wake_the_workers_at_commit() {
    use diesel_async::{AsyncConnection, AsyncPgConnection};
    use futures::StreamExt;
    let app = TestApp::new().await;
    let mut listener = AsyncPgConnection::establish(&app.ctx.config.database.url)
        .await
        .expect("listener connection");
    diesel::sql_query(format!("LISTEN {}", mail::worker::NOTIFY_CHANNEL))
        .execute(&mut listener)
        .await
        .expect("listen");

    let n = 5000;
    let mails: Vec<OutgoingMail> = (0..n)
        .map(|i| outgoing(&format!("m{i}@example.org"), "Récapitulatif de la semaine"))
        .collect();
    let ids = {
        let mut conn = app.ctx.conn().await.expect("conn");
        conn.transaction::<_, culturecnous::error::AppError, _>(async |conn| {
            mail::enqueue_many(conn, &app.ctx, mails).await
        })
        .await
        .expect("enqueue")
    };
    assert_eq!(ids.len(), n);
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), n);
    assert_eq!(crate::helpers::rows_in(&app, "mails").await, n as i64);

    let mut notifications = std::pin::pin!(listener.notifications_stream());
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), notifications.next())
        .await
        .expect("a notification at commit")
        .expect("stream open")
        .expect("notification");
    assert_eq!(first.channel, mail::worker::NOTIFY_CHANNEL);
}
