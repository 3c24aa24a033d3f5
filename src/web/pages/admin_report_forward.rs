//! `POST /admin/signalements/{id}/transmettre`: the button of the report page that forwards a
//! report to the server of the remote content it names (a `Flag` from the instance actor,
//! never naming the reporter). Back to the report page with a message.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    service::moderation::forward::forward,
    urls::admin_report_path,
    web::{auth::Moderator, csrf::CsrfForm, pages::layout::redirect_with_flash},
};
use axum::{Router, extract::Path, response::Response, routing::post};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new().route(
        "/admin/signalements/{id}/transmettre",
        post(http_post_forward),
    )
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn http_post_forward(
    data: Data,
    Moderator(user): Moderator,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::new(ErrorKind::NotFound, "report: no such report"))?;
    let back = admin_report_path(id);
    match forward(ctx, &user.account, id).await {
        Ok(_) => Ok(redirect_with_flash(ctx, &back, "flash.report_forwarded")),
        Err(e) if e.kind == ErrorKind::Conflict => {
            let key = if e.message_key == Some("moderation.forward.already") {
                "flash.report_forward_already"
            } else {
                "flash.report_forward_nothing_remote"
            };
            Ok(redirect_with_flash(ctx, &back, key))
        }
        Err(e) => Err(e),
    }
}
