//! Cover images of blog posts and announcements: the file side. The bytes are recognised by
//! their signature (never by name or claimed type), stored under a random name in
//! `{media_dir}/covers/`, and served by `/media/covers/{name}`. `service::publishing` writes the
//! file before its transaction, removes it if the transaction fails, and removes the replaced
//! file only after the commit, so a post never points at a missing file.

use crate::{
    context::AppContext,
    error::AppResult,
    service::{
        profile::{ImageType, is_avatar_file_name},
        tokens,
    },
};
use std::path::{Path, PathBuf};

/// Folder under the media folder, and prefix of `posts.cover_image_path`.
pub const COVER_DIR: &str = "covers";
/// Longest alternative text, in characters (Mastodon's limit for media descriptions).
pub const MAX_ALT_CHARS: usize = 1_500;

/// The largest cover image accepted on this instance, in bytes.
pub fn max_cover_bytes(ctx: &AppContext) -> usize {
    ctx.config.max_cover_bytes()
}

pub fn cover_dir(ctx: &AppContext) -> PathBuf {
    ctx.media_dir.join(COVER_DIR)
}

/// Whether `name` is a file name this module could have generated: the only names served from,
/// or deleted in, the cover folder (no path separators, no `..`, a known image extension).
pub fn is_cover_file_name(name: &str) -> bool {
    is_avatar_file_name(name)
}

/// The file name of a stored cover path (`covers/<name>`), when well formed.
pub fn cover_file_name(path: &str) -> Option<&str> {
    path.strip_prefix(COVER_DIR)
        .and_then(|p| p.strip_prefix('/'))
        .filter(|name| is_cover_file_name(name))
}

/// The site-relative URL of a stored cover, for pages.
pub fn cover_path_url(path: &str) -> Option<String> {
    cover_file_name(path).map(|name| format!("/media/{COVER_DIR}/{name}"))
}

/// The absolute URL of a stored cover, for federated objects and the API.
pub fn cover_url(ctx: &AppContext, path: &str) -> Option<String> {
    cover_path_url(path).map(|p| ctx.urls.absolute(&p))
}

/// Media type of a stored cover, from the extension chosen after sniffing.
pub fn cover_media_type(path: &str) -> &'static str {
    path.rsplit_once('.')
        .and_then(|(_, ext)| ImageType::from_extension(ext))
        .map(ImageType::mime)
        .unwrap_or("application/octet-stream")
}

/// Checks uploaded bytes: the message key of the field error when refused.
pub fn check_image(bytes: &[u8], max: usize) -> Result<ImageType, &'static str> {
    if bytes.len() > max {
        return Err("field.image.too_large");
    }
    ImageType::sniff(bytes).ok_or("field.image.invalid")
}

/// A cover file written for a change not committed yet.
#[derive(Debug)]
pub struct WrittenCover {
    /// `covers/<name>`, the value of `posts.cover_image_path`.
    pub rel: String,
    pub path: PathBuf,
}

/// Writes the bytes under a fresh random name.
pub async fn write_cover(
    ctx: &AppContext,
    bytes: &[u8],
    kind: ImageType,
) -> AppResult<WrittenCover> {
    let dir = cover_dir(ctx);
    tokio::fs::create_dir_all(&dir).await?;
    let name = format!("{}.{}", tokens::new_secret(), kind.extension());
    let path = dir.join(&name);
    tokio::fs::write(&path, bytes).await?;
    Ok(WrittenCover {
        rel: format!("{COVER_DIR}/{name}"),
        path,
    })
}

/// Removes a stored cover (`covers/<name>`); a malformed path names nothing and is left alone.
pub async fn remove_stored_cover(ctx: &AppContext, rel: &str) {
    if let Some(name) = cover_file_name(rel) {
        remove_file(&cover_dir(ctx).join(name)).await;
    }
}

/// Removes a file, quietly when it is already gone (a failure is logged: the row is right
/// either way, only disk space is at stake).
pub async fn remove_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot remove cover {}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_are_checked_before_use() {
        assert_eq!(cover_file_name("covers/abc_1.png"), Some("abc_1.png"));
        assert_eq!(cover_file_name("covers/../x.png"), None);
        assert_eq!(cover_file_name("avatars/abc.png"), None);
        assert_eq!(cover_file_name("covers/a.svg"), None);
        assert_eq!(
            cover_path_url("covers/abc.webp").as_deref(),
            Some("/media/covers/abc.webp")
        );
        assert_eq!(cover_media_type("covers/abc.jpg"), "image/jpeg");
    }

    #[test]
    fn images_are_recognised_by_their_bytes_and_size() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        assert_eq!(check_image(png, 100), Ok(ImageType::Png));
        assert_eq!(check_image(png, 5), Err("field.image.too_large"));
        assert_eq!(
            check_image(b"<svg onload=alert(1)>", 100),
            Err("field.image.invalid")
        );
    }
}
