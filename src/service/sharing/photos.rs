//! Photos of offers, each with its required text alternative. Files live under
//! `<data_dir>/photos` with random names; a file is written before its row's transaction and
//! removed if the transaction fails, and a removed row's file goes once committed.

use super::owned_for_update;
use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, offers::DbPhoto},
    error::{AppError, AppResult},
    service::{covers, photos},
};
use diesel_async::AsyncConnection;

/// Photos per offer.
pub const MAX_PHOTOS: usize = 8;
pub use crate::service::photos::{MAX_ALT_CHARS, is_photo_file_name, photo_dir, remove_files};

/// Adds a photo to the member's offer: an image recognised from its bytes, with its text
/// alternative (both fields reported at once).
pub async fn add(
    ctx: &AppContext,
    account: &DbAccount,
    offer_id: i64,
    bytes: &[u8],
    alt: &str,
) -> AppResult<DbPhoto> {
    let stored = photos::store(
        ctx,
        bytes,
        alt,
        covers::max_cover_bytes(ctx),
        photos::Fields {
            file: "photo",
            alt: "photo_alt",
            alt_required: "sharing.field.photo_alt",
        },
    )
    .await?;
    let mut conn = ctx.conn().await?;
    let result = conn
        .transaction::<DbPhoto, AppError, _>(async |conn| {
            let offer = owned_for_update(conn, account, offer_id).await?;
            let existing = db::offers::photos_of(conn, offer.id).await?;
            if existing.len() >= MAX_PHOTOS {
                return Err(AppError::field("photo", "sharing.field.too_many_photos"));
            }
            let position = existing.iter().map(|p| p.position + 1).max().unwrap_or(0);
            Ok(
                db::offers::insert_photo(conn, offer.id, &stored.name, &stored.alt, position)
                    .await?,
            )
        })
        .await;
    if result.is_err() {
        photos::discard(&stored).await;
    }
    result
}

/// Removes one photo of the member's offer.
pub async fn remove(
    ctx: &AppContext,
    account: &DbAccount,
    offer_id: i64,
    photo_id: i64,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let file = conn
        .transaction::<String, AppError, _>(async |conn| {
            let offer = owned_for_update(conn, account, offer_id).await?;
            db::offers::delete_photo(conn, offer.id, photo_id)
                .await?
                .ok_or_else(AppError::not_found)
        })
        .await?;
    remove_files(ctx, &[file]).await;
    Ok(())
}
