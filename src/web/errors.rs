//! Turns an `AppError` carried by a response into its body: an HTML page for browsers, an
//! `application/problem+json` document for everything else (API clients, servers, scripts).

use crate::{error::AppError, i18n::Lang, web::pages::PageLang};
use askama::Template;
use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use std::sync::Arc;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: Lang,
    title: &'a str,
    message: &'a str,
    fields: Vec<(String, &'static str)>,
}

/// Whether the client asked for HTML (a browser), rather than JSON.
pub fn wants_html(request: &Request) -> bool {
    if request.uri().path().starts_with("/api/") {
        return false;
    }
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

pub async fn render_errors(request: Request, next: Next) -> Response {
    let html = wants_html(&request);
    let lang = PageLang::from_request_headers(&request);
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<Arc<AppError>>().cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    let mut out = if html {
        error_page(&error, lang)
    } else {
        problem_json(&error, lang)
    };
    *out.status_mut() = parts.status;
    // Keep headers such as Retry-After or Set-Cookie set by the handler.
    for (name, value) in parts.headers.drain() {
        if let Some(name) = name
            && name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
        {
            out.headers_mut().insert(name, value);
        }
    }
    out
}

fn message_for(error: &AppError, lang: Lang) -> &'static str {
    lang.t(error.message_key.unwrap_or(error.kind.title_key()))
}

fn error_page(error: &AppError, lang: Lang) -> Response {
    let title = lang.t(error.kind.title_key());
    let message = message_for(error, lang);
    let page = ErrorPage {
        lang,
        title,
        message,
        fields: error
            .fields
            .iter()
            .map(|f| (f.field.clone(), lang.t(f.message_key)))
            .collect(),
    };
    match page.render() {
        Ok(body) => Html(body).into_response(),
        Err(_) => title.to_string().into_response(),
    }
}

fn problem_json(error: &AppError, lang: Lang) -> Response {
    let errors: Vec<serde_json::Value> = error
        .fields
        .iter()
        .map(|f| {
            serde_json::json!({
                "field": f.field,
                "code": f.message_key,
                "message": lang.t(f.message_key),
            })
        })
        .collect();
    let detail = if error.kind == crate::error::ErrorKind::Internal {
        message_for(error, lang).to_string()
    } else {
        error.detail.clone()
    };
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": Lang::En.t(error.kind.title_key()),
        "status": error.status().as_u16(),
        "detail": detail,
    });
    if let Some(first) = error.fields.first() {
        body["field"] = serde_json::Value::String(first.field.clone());
        body["errors"] = serde_json::Value::Array(errors);
    }
    let mut response = Response::new(Body::from(body.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}
