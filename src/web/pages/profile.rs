//! The public profile page of a member (HTML side of `/users/{username}`).

use crate::{
    db,
    error::{AppError, AppResult},
    federation::Data,
};
use axum::{
    http::HeaderMap,
    response::{IntoResponse, Response},
};

/// Renders the profile page; the route lives in `federation::routes` (content negotiation).
pub async fn render_profile(
    data: &Data,
    username: &str,
    _headers: &HeaderMap,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let account = db::accounts::by_login(&mut conn, username)
        .await?
        .filter(|a| a.username == username.to_lowercase())
        .ok_or_else(AppError::not_found)?;
    Ok(account.display_name.into_response())
}
