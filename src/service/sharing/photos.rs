//! Photos of offers, each with its required text alternative. Files live under
//! `<data_dir>/photos` with random names; a file is written before its row's transaction and
//! removed if the transaction fails, and a removed row's file goes once committed.

use super::owned_for_update;
use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, offers::DbPhoto},
    error::{AppError, AppResult, FieldErrors},
    service::{covers, profile::ImageType, tokens},
};
use diesel_async::AsyncConnection;
use std::path::PathBuf;

/// Photos per offer.
pub const MAX_PHOTOS: usize = 8;
pub const MAX_ALT_CHARS: usize = 500;

pub fn photo_dir(ctx: &AppContext) -> PathBuf {
    ctx.config.storage.data_dir.join("photos")
}

/// Whether `name` is a file name [`add`] could have written: the only names served.
pub fn is_photo_file_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && ["png", "jpg", "gif", "webp"].contains(&ext)
}

/// Adds a photo to the member's offer: an image recognised from its bytes, with its text
/// alternative (both fields reported at once).
pub async fn add(
    ctx: &AppContext,
    account: &DbAccount,
    offer_id: i64,
    bytes: &[u8],
    alt: &str,
) -> AppResult<DbPhoto> {
    let mut errors = FieldErrors::default();
    let alt = alt.split_whitespace().collect::<Vec<_>>().join(" ");
    if alt.is_empty() {
        errors.add("photo_alt", "sharing.field.photo_alt");
    } else if alt.chars().count() > MAX_ALT_CHARS {
        errors.add("photo_alt", "field.too_long");
    }
    let kind: Option<ImageType> = match covers::check_image(bytes, covers::max_cover_bytes(ctx)) {
        Ok(kind) => Some(kind),
        Err(key) => {
            errors.add("photo", key);
            None
        }
    };
    errors.into_result()?;
    let kind = kind.ok_or_else(|| AppError::internal("checked photo without its type"))?;
    let dir = photo_dir(ctx);
    tokio::fs::create_dir_all(&dir).await?;
    let name = format!("{}.{}", tokens::new_secret(), kind.extension());
    let path = dir.join(&name);
    tokio::fs::write(&path, bytes).await?;
    let mut conn = ctx.conn().await?;
    let result = conn
        .transaction::<DbPhoto, AppError, _>(async |conn| {
            let offer = owned_for_update(conn, account, offer_id).await?;
            let existing = db::offers::photos_of(conn, offer.id).await?;
            if existing.len() >= MAX_PHOTOS {
                return Err(AppError::field("photo", "sharing.field.too_many_photos"));
            }
            let position = existing.iter().map(|p| p.position + 1).max().unwrap_or(0);
            Ok(db::offers::insert_photo(conn, offer.id, &name, &alt, position).await?)
        })
        .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
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

/// Removes stored photo files (after their rows are gone).
pub async fn remove_files(ctx: &AppContext, files: &[String]) {
    let dir = photo_dir(ctx);
    for name in files.iter().filter(|n| is_photo_file_name(n)) {
        if let Err(e) = tokio::fs::remove_file(dir.join(name)).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("could not remove photo {name}: {e}");
        }
    }
}
