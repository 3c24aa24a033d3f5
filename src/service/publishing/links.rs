//! The addresses of a publication: its ActivityPub id, its page, a comment's anchor on it.

use super::kinds::Category;
use crate::{
    context::AppContext,
    db::posts::{CATEGORY_ANNOUNCEMENT, CATEGORY_THREAD, DbPost},
    error::AppResult,
};
use diesel_async::AsyncPgConnection;

/// The AP id of a post or announcement with this row id.
pub fn ap_id(ctx: &AppContext, category: Category, id: i64) -> String {
    match category {
        Category::Post => ctx.urls.absolute(&format!("/posts/{id}")),
        Category::Announcement => ctx.urls.absolute(&format!("/announcements/{id}")),
    }
}

/// The slugged public page (the AP id serves the same page to browsers).
pub fn page_url(post: &DbPost) -> String {
    page_url_of(post.id, post.local, &post.category, &post.ap_id, &post.slug)
}

/// [`page_url`] from the columns it reads, for callers that load only those.
pub fn page_url_of(id: i64, local: bool, category: &str, ap_id: &str, slug: &str) -> String {
    if !local {
        // A remote post kept here: its local page (its AP id is the remote server's).
        let base = match category {
            CATEGORY_ANNOUNCEMENT => "/announcements",
            CATEGORY_THREAD => crate::urls::FORUM_THREADS_PATH,
            _ => "/posts",
        };
        return format!("{base}/{id}/{slug}");
    }
    format!("{ap_id}/{slug}")
}

/// Where a comment is shown: its anchor on the page of comments of its post's page that
/// holds it, as a path.
pub async fn comment_anchor(
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    comment_id: i64,
) -> AppResult<String> {
    let page = crate::service::comments::page_of(conn, post, comment_id).await?;
    let url = page_url(post);
    let path = match url::Url::parse(&url) {
        Ok(u) => u.path().to_string(),
        // A remote post's page is already a path.
        Err(_) => url,
    };
    Ok(anchor_at(&path, page, comment_id))
}

/// `page_path` with the page of comments `page` (none for the first) and the anchor of
/// comment `id`.
pub fn anchor_at(page_path: &str, page: usize, id: i64) -> String {
    if page > 1 {
        format!("{page_path}?page={page}#comment-{id}")
    } else {
        format!("{page_path}#comment-{id}")
    }
}

/// Media type of a stored image, from its extension.
pub fn image_media_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or_default();
    crate::service::profile::ImageType::from_extension(ext)
        .map(|t| t.mime())
        .unwrap_or("application/octet-stream")
}
