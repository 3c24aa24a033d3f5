//! The addresses of a publication: its ActivityPub id, its page, a comment's anchor on it.

use super::kinds::Category;
use crate::{context::AppContext, db::posts::DbPost};

/// The AP id of a post or announcement with this row id.
pub fn ap_id(ctx: &AppContext, category: Category, id: i64) -> String {
    match category {
        Category::Post => ctx.urls.absolute(&format!("/posts/{id}")),
        Category::Announcement => ctx.urls.absolute(&format!("/announcements/{id}")),
    }
}

/// The slugged public page (the AP id serves the same page to browsers).
pub fn page_url(post: &DbPost) -> String {
    if !post.local {
        // A remote post kept here: its local page (its AP id is the remote server's).
        let base = if post.is_announcement() {
            "/announcements"
        } else {
            "/posts"
        };
        return format!("{base}/{}/{}", post.id, post.slug);
    }
    format!("{}/{}", post.ap_id, post.slug)
}

/// Where a comment is shown: its anchor on its post's page, as a path.
pub fn comment_anchor(post: &DbPost, comment_id: i64) -> String {
    let page = page_url(post);
    let path = match url::Url::parse(&page) {
        Ok(u) => u.path().to_string(),
        // A remote post's page is already a path.
        Err(_) => page,
    };
    format!("{path}#comment-{comment_id}")
}

/// Media type of a stored image, from its extension.
pub fn image_media_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or_default();
    crate::service::profile::ImageType::from_extension(ext)
        .map(|t| t.mime())
        .unwrap_or("application/octet-stream")
}
