//! The skeleton: home page, security headers, error formats.

use crate::common::TestApp;
use axum::http::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn home_page_is_french_by_default_with_security_headers() {
    let app = TestApp::new().await;
    let r = app.get_html("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(r#"<html lang="fr">"#), "{}", r.body);
    assert!(r.body.contains("acteurs culturels"), "{}", r.body);
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("referrer-policy").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_page_is_404_html_for_browsers_and_problem_json_otherwise() {
    let app = TestApp::new().await;
    let r = app.get("/api/v1/nothing-here", "application/json").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get_html("/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn stylesheet_is_cached() {
    let app = TestApp::new().await;
    let r = app.get("/assets/style.css", "text/css").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("cache-control").unwrap_or("").contains("max-age"));
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/css")
    );
}
