//! Photos of a venue: the bytes are recognised by their signature (never by name or claimed
//! type), stored under a random name in `<data_dir>/photos`, served by `/media/photos/{name}`;
//! each has a required alternative text.

use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, venues::DbPhoto},
    error::{AppError, AppResult},
    service::{photos, profile::ImageType},
};
use diesel_async::AsyncConnection;

pub use crate::service::photos::{MAX_ALT_CHARS, is_photo_file_name, photo_dir};

/// Photos per venue.
pub const MAX_PHOTOS: usize = 12;

/// The site-relative URL of a stored photo.
pub fn photo_path_url(file: &str) -> String {
    format!("/media/photos/{file}")
}

/// The absolute URL of a stored photo, for actor documents and the API.
pub fn photo_url(ctx: &AppContext, file: &str) -> String {
    ctx.urls.absolute(&photo_path_url(file))
}

/// The media type of a stored photo, from the extension chosen after sniffing.
pub fn photo_media_type(file: &str) -> Option<&'static str> {
    file.rsplit_once('.')
        .and_then(|(_, ext)| ImageType::from_extension(ext))
        .map(ImageType::mime)
}

/// Adds a photo to venue `venue_id` (its managers only). The file is written before the
/// transaction and removed again when the transaction fails.
pub async fn add(
    ctx: &AppContext,
    account: &DbAccount,
    venue_id: i64,
    bytes: &[u8],
    alt: &str,
) -> AppResult<DbPhoto> {
    let stored = photos::store(
        ctx,
        bytes,
        alt,
        ctx.config.max_upload_bytes(),
        photos::Fields {
            file: "file",
            alt: "alt",
            alt_required: "field.photo_alt.required",
        },
    )
    .await?;
    let mut conn = ctx.conn().await?;
    let result = conn
        .transaction::<DbPhoto, AppError, _>(async |conn| {
            let venue = super::managed_for_update(conn, venue_id, account).await?;
            if db::venues::photos(conn, venue.id).await?.len() >= MAX_PHOTOS {
                return Err(AppError::field("file", "field.photos.too_many"));
            }
            let photo = db::venues::insert_photo(conn, venue.id, &stored.name, &stored.alt).await?;
            super::federate_update(ctx, conn, &venue).await?;
            Ok(photo)
        })
        .await;
    if result.is_err() {
        photos::discard(&stored).await;
    }
    result
}

/// Removes a photo (its venue's managers only); the file goes once the row is gone.
pub async fn remove(
    ctx: &AppContext,
    account: &DbAccount,
    venue_id: i64,
    photo_id: i64,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let photo = conn
        .transaction::<DbPhoto, AppError, _>(async |conn| {
            let venue = super::managed_for_update(conn, venue_id, account).await?;
            let photo = db::venues::delete_photo(conn, venue.id, photo_id)
                .await?
                .ok_or_else(AppError::not_found)?;
            super::federate_update(ctx, conn, &venue).await?;
            Ok(photo)
        })
        .await?;
    remove_files(ctx, &[photo]).await;
    Ok(())
}

/// Removes the files of photos whose rows are gone.
pub async fn remove_files(ctx: &AppContext, removed: &[DbPhoto]) {
    let files: Vec<String> = removed.iter().map(|p| p.path.clone()).collect();
    photos::remove_files(ctx, &files).await;
}
