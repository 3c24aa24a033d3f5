//! Settings: the member's API access tokens (`/parametres/jetons`). Lists them, creates one
//! (its secret is shown on the answer to the form, once, and never stored in clear), revokes.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::tokens::{self, TokenInfo},
    web::{
        auth::CurrentUser,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/parametres/jetons",
            get(http_get_tokens).post(http_post_token),
        )
        .route(
            "/parametres/jetons/{id}/revoquer",
            post(http_post_revoke_token),
        )
}

/// A moment shown in a page: machine-readable for `<time>`, and in the page's words.
struct Stamp {
    iso: String,
    text: String,
}

impl Stamp {
    fn new(lang: Lang, at: DateTime<Utc>) -> Stamp {
        let text = match lang {
            Lang::Fr => at.format("%d/%m/%Y %H:%M UTC"),
            Lang::En => at.format("%Y-%m-%d %H:%M UTC"),
        };
        Stamp {
            iso: at.to_rfc3339(),
            text: text.to_string(),
        }
    }
}

struct TokenRow {
    id: i64,
    name: String,
    created: Stamp,
    last_used: Option<Stamp>,
    revoked: bool,
}

impl TokenRow {
    fn new(lang: Lang, t: TokenInfo) -> TokenRow {
        TokenRow {
            id: t.id,
            name: t.name,
            created: Stamp::new(lang, t.created_at),
            last_used: t.last_used_at.map(|at| Stamp::new(lang, at)),
            revoked: t.revoked_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/tokens.html")]
struct TokensPage<'a> {
    lang: Lang,
    csrf: &'a str,
    tokens: Vec<TokenRow>,
    /// The name typed in the creation form (kept when it is shown again with an error).
    token_name: &'a str,
    errors: FormState,
    /// The secret of the token just created: shown in this answer only.
    new_secret: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewTokenForm {
    name: String,
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

/// What varies between the answers: the creation form's state and the secret just made.
struct FormPart<'a> {
    name: &'a str,
    errors: FormState,
    new_secret: Option<String>,
    status: StatusCode,
}

impl FormPart<'_> {
    fn blank(lang: Lang) -> Self {
        FormPart {
            name: "",
            errors: FormState::new(lang),
            new_secret: None,
            status: StatusCode::OK,
        }
    }
}

async fn page_with(
    data: &Data,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    form: FormPart<'_>,
) -> AppResult<Response> {
    let tokens = tokens::list_tokens(data.app_data(), &user.account)
        .await?
        .into_iter()
        .map(|t| TokenRow::new(lang, t))
        .collect();
    render_status(
        form.status,
        &TokensPage {
            lang,
            csrf: csrf.value(),
            tokens,
            token_name: form.name,
            errors: form.errors,
            new_secret: form.new_secret,
        },
    )
}

async fn http_get_tokens(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    page_with(&data, lang, &user, &csrf, FormPart::blank(lang)).await
}

/// Creates a token and answers with the page showing its secret. No redirect: the secret
/// must not travel through a cookie or a URL, and this answer is the only place it appears.
async fn http_post_token(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<NewTokenForm>,
) -> AppResult<Response> {
    let part = match tokens::create_token_for(data.app_data(), &user.account, &form.name).await {
        Ok(created) => FormPart {
            new_secret: Some(created.secret),
            ..FormPart::blank(lang)
        },
        Err(e) if e.kind == ErrorKind::Validation => FormPart {
            name: &form.name,
            errors: FormState::from_error(lang, &e),
            new_secret: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        },
        Err(e) => return Err(e),
    };
    page_with(&data, lang, &user, &csrf, part).await
}

/// Revokes one of the member's tokens; someone else's (or an unknown id) is a 404.
async fn http_post_revoke_token(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    tokens::revoke_token(ctx, &user.account, id).await?;
    Ok(redirect_with_flash(
        ctx,
        "/parametres/jetons",
        "flash.token_revoked",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stamps_in_the_page_language() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 28, 9, 5, 0)
            .single()
            .expect("date");
        let fr = Stamp::new(Lang::Fr, at);
        assert_eq!(fr.text, "28/11/2026 09:05 UTC");
        assert!(fr.iso.starts_with("2026-11-28T09:05:00"));
        assert_eq!(Stamp::new(Lang::En, at).text, "2026-11-28 09:05 UTC");
    }
}
