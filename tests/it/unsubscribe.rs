//! One-click unsubscribe (`/desabonnement?t=…`, RFC 8058): what each kind of link stops, the
//! confirmation page, the POST mail programs send without a session, and altered links.

use crate::{
    common::{TestApp, TestResponse},
    helpers::{Browser, unescape},
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use culturecnous::{
    db::schema::{alerts, notification_preferences},
    service::{
        mail::unsubscribe::{self, Scope},
        notifications::{Delivery, NotificationKind, delivery_for},
    },
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

async fn link_path(app: &TestApp, account_id: i64, scope: Scope) -> String {
    let mut conn = app.ctx.conn().await.expect("conn");
    let link = unsubscribe::link(&app.ctx, &mut conn, account_id, scope)
        .await
        .expect("link");
    let path = link
        .strip_prefix("http://localhost:8080")
        .expect("an absolute link on the instance")
        .to_string();
    assert!(path.starts_with("/desabonnement?t="), "{path}");
    path
}

/// What a mail program sends for `List-Unsubscribe-Post` (RFC 8058 §3.1): no cookie, no
/// token field.
async fn one_click(app: &TestApp, path: &str) -> TestResponse {
    app.send(
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("List-Unsubscribe=One-Click"))
            .expect("request"),
    )
    .await
}

async fn delivery(app: &TestApp, account_id: i64, kind: NotificationKind) -> Delivery {
    let mut conn = app.ctx.conn().await.expect("conn");
    delivery_for(&mut conn, account_id, kind)
        .await
        .expect("delivery")
}

async fn set_delivery(app: &TestApp, account_id: i64, kind: NotificationKind, d: Delivery) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::insert_into(notification_preferences::table)
        .values((
            notification_preferences::account_id.eq(account_id),
            notification_preferences::kind.eq(kind.as_str()),
            notification_preferences::delivery.eq(d.as_str()),
        ))
        .execute(&mut conn)
        .await
        .expect("preference");
}

async fn alert(app: &TestApp, account_id: i64, mail: &str) -> i64 {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::insert_into(alerts::table)
        .values((alerts::account_id.eq(account_id), alerts::mail.eq(mail)))
        .returning(alerts::id)
        .get_result(&mut conn)
        .await
        .expect("alert")
}

async fn alert_mail(app: &TestApp, id: i64) -> String {
    let mut conn = app.ctx.conn().await.expect("conn");
    alerts::table
        .find(id)
        .select(alerts::mail)
        .first(&mut conn)
        .await
        .expect("alert row")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kind_link_stops_its_mails_and_keeps_the_centre() {
    let app = TestApp::new().await;
    let lea = app.create_user("lea", "member").await;
    let path = link_path(&app, lea.id, Scope::Kind(NotificationKind::Reply)).await;
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Reply).await,
        Delivery::Instant
    );

    // The page says what the link stops, and changes nothing by itself (link checkers and
    // mail scanners open links).
    let page = app.get_html(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = unescape(&page.body);
    assert!(body.contains("les réponses à vos publications"), "{body}");
    assert!(
        body.contains(&format!("<form method=\"post\" action=\"{path}\">")),
        "{body}"
    );
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Reply).await,
        Delivery::Instant
    );

    let done = one_click(&app, &path).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        unescape(&done.body).contains("Vous ne recevrez plus de courriels"),
        "{}",
        done.body
    );
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Reply).await,
        Delivery::Centre
    );
    // Other kinds keep their mails.
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Mention).await,
        Delivery::Instant
    );

    // A second click (mail programs may post twice) answers the same way.
    let again = one_click(&app, &path).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        unescape(&again.body).contains("Vous ne receviez déjà plus"),
        "{}",
        again.body
    );
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Reply).await,
        Delivery::Centre
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kind_link_leaves_a_type_turned_off_alone() {
    let app = TestApp::new().await;
    let lea = app.create_user("lea", "member").await;
    set_delivery(&app, lea.id, NotificationKind::Like, Delivery::Off).await;
    set_delivery(&app, lea.id, NotificationKind::Follow, Delivery::Weekly).await;
    let path = link_path(&app, lea.id, Scope::Kind(NotificationKind::Like)).await;
    assert_eq!(one_click(&app, &path).await.status, StatusCode::OK);
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Like).await,
        Delivery::Off
    );
    let path = link_path(&app, lea.id, Scope::Kind(NotificationKind::Follow)).await;
    assert_eq!(one_click(&app, &path).await.status, StatusCode::OK);
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Follow).await,
        Delivery::Centre
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_link_stops_that_alert_of_that_member_only() {
    let app = TestApp::new().await;
    let lea = app.create_user("lea", "member").await;
    let camille = app.create_user("camille", "member").await;
    let leas = alert(&app, lea.id, "instant").await;
    let leas_other = alert(&app, lea.id, "daily").await;
    let camilles = alert(&app, camille.id, "instant").await;

    let path = link_path(&app, lea.id, Scope::Alert(leas)).await;
    let page = app.get_html(&path).await;
    assert!(unescape(&page.body).contains("cette alerte d'annonces"));
    assert_eq!(one_click(&app, &path).await.status, StatusCode::OK);
    assert_eq!(alert_mail(&app, leas).await, "none");
    assert_eq!(alert_mail(&app, leas_other).await, "daily");

    // Lea's signature does not reach Camille's alert.
    let path = link_path(&app, lea.id, Scope::Alert(camilles)).await;
    assert_eq!(one_click(&app, &path).await.status, StatusCode::OK);
    assert_eq!(alert_mail(&app, camilles).await, "instant");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_link_stops_every_digest_and_nothing_else() {
    let app = TestApp::new().await;
    let lea = app.create_user("lea", "member").await;
    set_delivery(&app, lea.id, NotificationKind::Follow, Delivery::Daily).await;
    set_delivery(&app, lea.id, NotificationKind::Like, Delivery::Weekly).await;
    set_delivery(&app, lea.id, NotificationKind::Boost, Delivery::Off).await;
    let daily = alert(&app, lea.id, "daily").await;
    let weekly = alert(&app, lea.id, "weekly").await;
    let instant = alert(&app, lea.id, "instant").await;

    let path = link_path(&app, lea.id, Scope::Digest).await;
    let page = app.get_html(&path).await;
    assert!(unescape(&page.body).contains("les récapitulatifs quotidiens et hebdomadaires"));
    assert_eq!(one_click(&app, &path).await.status, StatusCode::OK);

    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Follow).await,
        Delivery::Centre
    );
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Like).await,
        Delivery::Centre
    );
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Boost).await,
        Delivery::Off
    );
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Reply).await,
        Delivery::Instant
    );
    assert_eq!(alert_mail(&app, daily).await, "none");
    assert_eq!(alert_mail(&app, weekly).await, "none");
    assert_eq!(alert_mail(&app, instant).await, "instant");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_altered_link_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let lea = app.create_user("lea", "member").await;
    let camille = app.create_user("camille", "member").await;
    let path = link_path(&app, lea.id, Scope::Kind(NotificationKind::Reply)).await;
    let token = path.strip_prefix("/desabonnement?t=").expect("token");
    let (payload, signature) = token.rsplit_once('.').expect("signed");
    // Another member's id under Lea's signature, another scope, a changed or missing
    // signature, garbage, nothing.
    let forged = [
        format!(
            "{}.{}",
            payload.replacen(&lea.id.to_string(), &camille.id.to_string(), 1),
            signature
        ),
        format!(
            "{}.{}",
            payload.replace("kind-reply", "kind-mention"),
            signature
        ),
        format!("{payload}.{}", signature.chars().rev().collect::<String>()),
        payload.to_string(),
        format!("{payload}.!!!"),
        "nonsense".to_string(),
        String::new(),
    ];
    for t in &forged {
        let bad = format!("/desabonnement?t={t}");
        let page = app.get_html(&bad).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{t}");
        assert!(
            unescape(&page.body).contains("Lien invalide"),
            "{t}: {}",
            page.body
        );
        let post = one_click(&app, &bad).await;
        assert_eq!(post.status, StatusCode::BAD_REQUEST, "{t}");
    }
    let no_token = one_click(&app, "/desabonnement").await;
    assert_eq!(no_token.status, StatusCode::BAD_REQUEST);
    for (account, kind) in [
        (lea.id, NotificationKind::Reply),
        (lea.id, NotificationKind::Mention),
        (camille.id, NotificationKind::Reply),
    ] {
        assert_eq!(delivery(&app, account, kind).await, Delivery::Instant);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_post_needs_no_csrf_token_even_from_another_site() {
    let app = TestApp::new().await;
    let lea = app.create_user("lea", "member").await;
    app.create_user("camille", "member").await;
    // The button on the page, clicked by a logged-in member (not necessarily the link's owner).
    let path = link_path(&app, lea.id, Scope::Kind(NotificationKind::Reply)).await;
    let camille = Browser::logged_in(&app, "camille").await;
    let r = camille
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(&path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Reply).await,
        Delivery::Centre
    );

    // A web mail posting from its own site, cookies and all: still accepted (the other form
    // posts of the site are refused in that case).
    let path = link_path(&app, lea.id, Scope::Kind(NotificationKind::Mention)).await;
    let r = camille
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(&path)
                .header("sec-fetch-site", "cross-site")
                .header(header::ORIGIN, "https://webmail.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from("List-Unsubscribe=One-Click"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        delivery(&app, lea.id, NotificationKind::Mention).await,
        Delivery::Centre
    );
    let r = camille
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/langue")
                .header("sec-fetch-site", "cross-site")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from("lang=en"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "other forms stay protected"
    );
}
