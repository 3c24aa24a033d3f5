//! The like and boost buttons under a post, announcement or comment (`POST /reactions`), and
//! the counts shown to every reader. The rules live in `service::reactions`, shared with
//! `/api/v1/likes`, `/api/v1/boosts` and the inbox.

use crate::{
    context::AppContext,
    db::{Conn, accounts::DbAccount, posts::DbPost},
    error::{AppError, AppResult},
    federation::Data,
    i18n::Lang,
    service::{
        publishing::page_url,
        reactions::{self, Counts, ReactionKind},
    },
    web::{
        auth::CurrentUser,
        csrf::CsrfForm,
        pages::{layout::redirect_with_flash, local_path},
    },
};
use axum::{Router, response::Response, routing::post};
use serde::Deserialize;
use std::collections::HashMap;
use url::Url;

pub fn routes() -> Router {
    Router::new().route("/reactions", post(http_post_reaction))
}

/// What `templates/posts/_reactions.html` shows.
pub struct ReactionsView {
    /// The AP id of the object the buttons act on.
    pub object: String,
    /// "3 j'aime · 2 partages".
    pub counts_label: String,
    pub likes: i64,
    pub boosts: i64,
    pub liked: bool,
    pub boosted: bool,
    /// Buttons are shown (a member is logged in and the object is published).
    pub can_react: bool,
}

/// "1 j'aime · 0 partage" / "1 like · 0 boosts": French counts 0 and 1 as singular.
pub fn counts_label(lang: Lang, counts: Counts) -> String {
    let singular = |n: i64| match lang {
        Lang::Fr => n <= 1,
        Lang::En => n == 1,
    };
    let likes = if singular(counts.likes) {
        lang.t("reactions.like_count_one")
    } else {
        lang.t("reactions.like_count_other")
    };
    let boosts = if singular(counts.boosts) {
        lang.t("reactions.boost_count_one")
    } else {
        lang.t("reactions.boost_count_other")
    };
    format!("{} {likes} · {} {boosts}", counts.likes, counts.boosts)
}

/// The counts of `post`, and the buttons' state for `viewer`.
pub async fn view_for(
    ctx: &AppContext,
    lang: Lang,
    post: &DbPost,
    viewer: Option<&DbAccount>,
) -> AppResult<ReactionsView> {
    let mut conn = ctx.conn().await?;
    let counts = reactions::counts(&mut conn, std::slice::from_ref(&post.ap_id))
        .await?
        .remove(&post.ap_id)
        .unwrap_or_default();
    let state = match viewer {
        Some(account) => reactions::viewer_state(&mut conn, account.actor_id, &post.ap_id).await?,
        None => Default::default(),
    };
    Ok(ReactionsView {
        object: post.ap_id.clone(),
        counts_label: counts_label(lang, counts),
        likes: counts.likes,
        boosts: counts.boosts,
        liked: state.liked,
        boosted: state.boosted,
        can_react: viewer.is_some_and(|v| v.suspended_at.is_none()) && post.is_public(),
    })
}

/// The counts of the `posts` of a list page that have likes or boosts, worded, by page URL:
/// one query for the whole page.
pub async fn labels_by_page(
    conn: &mut Conn,
    lang: Lang,
    posts: &[DbPost],
) -> AppResult<HashMap<String, String>> {
    let ids: Vec<String> = posts.iter().map(|p| p.ap_id.clone()).collect();
    let counts = reactions::counts(conn, &ids).await?;
    Ok(posts
        .iter()
        .filter_map(|p| {
            let c = counts.get(&p.ap_id)?;
            Some((page_url(p), counts_label(lang, *c)))
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReactionForm {
    /// The AP id of the post, announcement or comment.
    object: String,
    /// `like` or `announce` (`boost`).
    kind: String,
    /// Set to withdraw the like or boost.
    undo: String,
    /// The page to come back to (a path on this site); else the object's page.
    back: String,
}

async fn http_post_reaction(
    data: Data,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<ReactionForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let object = Url::parse(form.object.trim())
        .map_err(|_| AppError::field("object", "field.object.invalid"))?;
    let kind = ReactionKind::parse(form.kind.trim())
        .ok_or_else(|| AppError::field("kind", "field.reaction_kind.unknown"))?;
    let undo = matches!(form.undo.as_str(), "1" | "true" | "on");
    if undo {
        reactions::unreact(ctx, &user.account, kind, &object).await?;
    } else {
        reactions::react(ctx, &user.account, kind, &object).await?;
    }
    let key = match (kind, undo) {
        (ReactionKind::Like, false) => "flash.liked",
        (ReactionKind::Like, true) => "flash.unliked",
        (ReactionKind::Announce, false) => "flash.boosted",
        (ReactionKind::Announce, true) => "flash.unboosted",
    };
    let back = match local_path(&form.back) {
        Some(path) => path.to_string(),
        None => {
            let mut conn = ctx.conn().await?;
            reactions::find_target(&mut conn, object.as_str())
                .await?
                .and_then(|t| t.page)
                .unwrap_or_else(|| "/".to_string())
        }
    };
    Ok(redirect_with_flash(ctx, &back, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_worded_per_language() {
        let c = |likes, boosts| Counts {
            likes,
            boosts,
            replies: 0,
        };
        assert_eq!(counts_label(Lang::Fr, c(3, 2)), "3 j'aime · 2 partages");
        assert_eq!(counts_label(Lang::Fr, c(0, 1)), "0 j'aime · 1 partage");
        assert_eq!(counts_label(Lang::En, c(1, 0)), "1 like · 0 boosts");
        assert_eq!(counts_label(Lang::En, c(2, 1)), "2 likes · 1 boost");
    }
}
