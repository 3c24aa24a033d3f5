//! Uploaded media served back: avatars and the cover images of posts. Names are random and never reused, so responses can be
//! cached for good; the content type comes from the extension we chose after checking the
//! bytes, and `nosniff` (set for every response) stops browsers from guessing otherwise.

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    service::{
        covers,
        profile::{self, ImageType},
    },
};
use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use std::path::PathBuf;

pub fn routes() -> Router {
    Router::new()
        .route("/media/avatars/{file}", get(http_get_avatar))
        .route("/media/covers/{file}", get(http_get_cover))
        .route("/media/photos/{file}", get(http_get_photo))
}

async fn http_get_avatar(data: Data, Path(file): Path<String>) -> AppResult<Response> {
    if !profile::is_avatar_file_name(&file) {
        return Err(AppError::not_found());
    }
    serve_image(profile::avatar_dir(data.app_data()), &file).await
}

async fn http_get_cover(data: Data, Path(file): Path<String>) -> AppResult<Response> {
    if !covers::is_cover_file_name(&file) {
        return Err(AppError::not_found());
    }
    serve_image(covers::cover_dir(data.app_data()), &file).await
}

/// A venue's photo (`service::venues::photos`). The folder also holds offers' photos, which
/// only `/mutualisation/photos/…` serves (a members-only offer's photo is not public).
async fn http_get_photo(data: Data, Path(file): Path<String>) -> AppResult<Response> {
    if !crate::service::venues::photos::is_photo_file_name(&file) {
        return Err(AppError::not_found());
    }
    let ctx = data.app_data();
    let venue_photo = {
        let mut conn = ctx.conn().await?;
        crate::db::venues::is_venue_photo(&mut conn, &file).await?
    };
    if !venue_photo {
        return Err(AppError::not_found());
    }
    serve_image(crate::service::venues::photos::photo_dir(ctx), &file).await
}

/// `file` (a checked name) from `dir`, typed by its extension.
pub(crate) async fn serve_image(dir: PathBuf, file: &str) -> AppResult<Response> {
    let kind = file
        .rsplit_once('.')
        .and_then(|(_, ext)| ImageType::from_extension(ext))
        .ok_or_else(AppError::not_found)?;
    let path = dir.join(file);
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(AppError::not_found()),
        Err(e) => return Err(e.into()),
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}
