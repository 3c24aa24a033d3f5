//! Photos of venues and sharing offers: one rule for what is accepted (an image recognised
//! from its bytes, under the size limit, with its text alternative) and one folder where the
//! files live (`<data_dir>/photos`, random names). The venue and sharing modules keep their
//! own rows and rights; they check and store the file through [`store`].

use crate::{
    context::AppContext,
    error::{AppError, AppResult, FieldErrors},
    service::{covers, profile::is_avatar_file_name, tokens},
};
use std::path::PathBuf;

/// Longest text alternative (the table allows 500).
pub const MAX_ALT_CHARS: usize = 500;

/// The folder of photo files.
pub fn photo_dir(ctx: &AppContext) -> PathBuf {
    ctx.config.storage.data_dir.join("photos")
}

/// Whether `name` is a file name [`store`] could have written (random part + image
/// extension): the only names served from, or deleted in, the photo folder.
pub fn is_photo_file_name(name: &str) -> bool {
    is_avatar_file_name(name)
}

/// The form or API field names an upload's errors are reported on, and the message of a
/// missing text alternative.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub file: &'static str,
    pub alt: &'static str,
    pub alt_required: &'static str,
}

/// A checked photo whose file is written; its row is the caller's.
#[derive(Debug)]
pub struct Stored {
    /// File name in [`photo_dir`].
    pub name: String,
    pub path: PathBuf,
    /// The text alternative, spaces collapsed.
    pub alt: String,
}

/// Checks the image (`max_bytes`) and its text alternative — both fields reported at once —
/// then writes the file. When the caller's transaction fails, it removes the file with
/// [`discard`].
pub async fn store(
    ctx: &AppContext,
    bytes: &[u8],
    alt: &str,
    max_bytes: usize,
    fields: Fields,
) -> AppResult<Stored> {
    let mut errors = FieldErrors::default();
    let alt = alt.split_whitespace().collect::<Vec<_>>().join(" ");
    if alt.is_empty() {
        errors.add(fields.alt, fields.alt_required);
    } else if alt.chars().count() > MAX_ALT_CHARS {
        errors.add(fields.alt, "field.too_long");
    }
    let kind = match covers::check_image(bytes, max_bytes) {
        Ok(kind) => Some(kind),
        Err(key) => {
            errors.add(fields.file, key);
            None
        }
    };
    errors.into_result()?;
    let kind = kind.ok_or_else(|| AppError::internal("image checked above"))?;
    let dir = photo_dir(ctx);
    tokio::fs::create_dir_all(&dir).await?;
    let name = format!("{}.{}", tokens::new_secret(), kind.extension());
    let path = dir.join(&name);
    tokio::fs::write(&path, bytes).await?;
    Ok(Stored { name, path, alt })
}

/// Removes a file [`store`] wrote, when its row could not be written.
pub async fn discard(stored: &Stored) {
    covers::remove_file(&stored.path).await;
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
