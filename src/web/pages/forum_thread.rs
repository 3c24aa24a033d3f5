//! A forum thread's page (`/forum/sujets/{id}/{slug}`; the bare `/forum/sujets/{id}` is
//! content-negotiated and answers ActivityPub clients with its `Page`): the thread, its
//! replies (the comments section every post has: threaded, paged, likes, quoting, reports),
//! replies new since the member's last visit marked, and the forms of its author (edit,
//! delete) and of the category's moderators (lock, pin, move, delete).

use super::forum::{
    ThreadForm, ThreadFormPage, actor_label, actor_link, back_path, date, local_path,
};
use crate::{
    context::AppContext,
    error::{AppError, AppResult},
    federation::{
        Data,
        negotiation::{Face, face, vary_accept},
    },
    i18n::Lang,
    sanitize::SafeHtml,
    service::{
        forum::{
            self,
            subscriptions::{self, Target},
            threads,
        },
        publishing::page_url,
    },
    web::{
        auth::{CurrentUser, MaybeUser},
        csrf::CsrfForm,
        pages::{
            PageLang,
            comments::{CommentsPage, CommentsSection, section},
            forms::FormState,
            layout::redirect_with_flash,
            render, render_status,
        },
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route("/forum/sujets/{id}", get(http_get_thread))
        .route("/forum/sujets/{id}/{slug}", get(http_get_thread_slug))
        .route(
            "/forum/sujets/{id}/modifier",
            get(http_get_edit).post(http_post_edit),
        )
        .route("/forum/sujets/{id}/supprimer", post(http_post_delete))
        .route("/forum/sujets/{id}/moderer", post(http_post_moderate))
        .route("/forum/sujets/{id}/suivre", post(http_post_follow))
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

struct CategoryChoice {
    slug: String,
    name: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "forum/thread.html")]
struct ThreadPage<'a> {
    lang: Lang,
    csrf: &'a str,
    head: crate::web::pages::feeds::HeadMeta,
    id: i64,
    ap_id: String,
    title: String,
    body: SafeHtml,
    author: String,
    author_url: String,
    published: String,
    published_iso: String,
    edited: bool,
    category_name: String,
    category_url: String,
    locked: bool,
    pinned: bool,
    hidden: bool,
    original_url: Option<String>,
    can_edit: bool,
    can_delete: bool,
    moderates: bool,
    logged_in: bool,
    following: bool,
    back: String,
    /// The reply form, opened with the thread's text quoted.
    quote_url: String,
    categories: Vec<CategoryChoice>,
    reactions: crate::web::pages::reactions::ReactionsView,
    comments: CommentsSection,
    new_replies: usize,
}

#[allow(clippy::too_many_arguments)]
async fn show(
    data: &Data,
    lang: Lang,
    user: Option<CurrentUser>,
    id: &str,
    slug: Option<&str>,
    headers: &HeaderMap,
    comments_page: CommentsPage,
) -> AppResult<Response> {
    let id = parse_id(id)?;
    if slug.is_none() && face(headers, Face::Page) == Face::Document {
        return Ok(vary_accept(
            crate::federation::forum::thread_document(data, id).await?,
        ));
    }
    let ctx = data.app_data();
    let viewer = user.as_ref().map(|u| &u.account);
    let shown = threads::show(ctx, id, viewer).await?;
    if slug != Some(shown.post.slug.as_str()) {
        return Ok(Redirect::permanent(&local_path(&page_url(&shown.post))).into_response());
    }
    let mut conn = ctx.conn().await?;
    let moderates = match viewer {
        Some(v) => forum::moderates(&mut conn, v, &shown.category).await?,
        None => false,
    };
    let categories = if moderates {
        crate::db::forum::categories(&mut conn)
            .await?
            .into_iter()
            .map(|c| CategoryChoice {
                current: c.id == shown.category.id,
                slug: c.slug,
                name: c.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    drop(conn);
    let mut comments = section(ctx, lang, &shown.post, viewer, comments_page).await?;
    // Replies since the member's last visit are marked new (none on a first visit: all is).
    let mut new_replies = 0;
    if let Some(read) = shown.previously_read {
        for row in &mut comments.rows {
            if !row.deleted && row.published_at > read {
                row.is_new = true;
                new_replies += 1;
            }
        }
    }
    if shown.thread.is_locked() {
        comments.closed = Some(lang.t("forum.locked_notice").to_string());
    }
    let page_path = local_path(&page_url(&shown.post));
    let own = viewer.is_some_and(|v| shown.post.account_id == Some(v.id));
    let page = ThreadPage {
        lang,
        csrf: user.as_ref().map(|u| u.csrf_token.as_str()).unwrap_or(""),
        head: crate::web::pages::feeds::HeadMeta::of_post(ctx, &shown.post, &shown.author),
        id: shown.post.id,
        ap_id: shown.post.ap_id.clone(),
        title: shown.post.title.clone(),
        body: SafeHtml::from_trusted_storage(shown.post.body_html.clone()).nest_headings(2),
        author: actor_label(&shown.author),
        author_url: actor_link(&shown.author),
        published: date(
            lang,
            shown.post.published_at.unwrap_or(shown.post.created_at),
        ),
        published_iso: shown
            .post
            .published_at
            .unwrap_or(shown.post.created_at)
            .to_rfc3339(),
        edited: shown.post.local
            && shown
                .post
                .published_at
                .is_some_and(|p| shown.post.updated_at > p + chrono::Duration::seconds(1)),
        category_name: shown.category.name.clone(),
        category_url: format!("/forum/{}", shown.category.slug),
        locked: shown.thread.is_locked(),
        pinned: shown.thread.is_pinned(),
        hidden: shown.post.hidden_at.is_some(),
        original_url: (!shown.post.local)
            .then(|| shown.post.url.clone().unwrap_or(shown.post.ap_id.clone())),
        can_edit: own && shown.post.local && viewer.is_some_and(|v| v.suspended_at.is_none()),
        can_delete: (own && viewer.is_some_and(|v| v.suspended_at.is_none())) || moderates,
        moderates,
        logged_in: user.is_some(),
        following: shown.subscribed,
        back: page_path,
        quote_url: format!(
            "/commentaires/repondre?cible={}&citer=1",
            url::form_urlencoded::byte_serialize(shown.post.ap_id.as_bytes()).collect::<String>()
        ),
        categories,
        reactions: crate::web::pages::reactions::view_for(ctx, lang, &shown.post, viewer).await?,
        comments,
        new_replies,
    };
    Ok(vary_accept(render(&page)?))
}

async fn http_get_thread(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    comments_page: CommentsPage,
) -> AppResult<Response> {
    show(&data, lang, user, &id, None, &headers, comments_page).await
}

async fn http_get_thread_slug(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path((id, slug)): Path<(String, String)>,
    headers: HeaderMap,
    comments_page: CommentsPage,
) -> AppResult<Response> {
    show(&data, lang, user, &id, Some(&slug), &headers, comments_page).await
}

// ---------------------------------------------------------------------------------------------
// Edit and delete (the author; a moderator deletes too)

async fn edit_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    id: i64,
    form: Option<ThreadForm>,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let mut conn = ctx.conn().await?;
    let (post, _, category) = threads::live_thread(&mut conn, id).await?;
    if post.account_id != Some(user.account.id) || !post.local {
        return Err(AppError::forbidden("this is someone else's thread")
            .with_message("forum.error.not_yours"));
    }
    let form = form.unwrap_or_else(|| ThreadForm {
        title: post.title.clone(),
        body: post.body_markdown.clone(),
    });
    render_status(
        status,
        &ThreadFormPage {
            lang,
            csrf: &user.csrf_token,
            heading: lang.t("forum.edit_thread").to_string(),
            action: format!("/forum/sujets/{id}/modifier"),
            back: local_path(&page_url(&post)),
            back_label: format!("{} ({})", post.title, category.name),
            form,
            errors,
            submit: lang.t("forum.edit_thread_submit").to_string(),
        },
    )
}

async fn http_get_edit(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    edit_page(
        data.app_data(),
        lang,
        &user,
        parse_id(&id)?,
        None,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_edit(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ThreadForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    match threads::edit(&data, &user.account, id, form.input()).await {
        Ok(post) => Ok(redirect_with_flash(
            ctx,
            &local_path(&page_url(&post)),
            "flash.forum.thread_edited",
        )),
        Err(e) if !e.fields.is_empty() => {
            let status = e.status();
            edit_page(
                ctx,
                lang,
                &user,
                id,
                Some(form),
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn http_post_delete(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let category = {
        let mut conn = ctx.conn().await?;
        threads::live_thread(&mut conn, id).await?.2
    };
    threads::delete(ctx, &user.account, id).await?;
    Ok(redirect_with_flash(
        ctx,
        &format!("/forum/{}", category.slug),
        "flash.forum.thread_deleted",
    ))
}

// ---------------------------------------------------------------------------------------------
// Moderation: lock, unlock, pin, unpin, move

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ModerateForm {
    /// `lock`, `unlock`, `pin`, `unpin` or `move`.
    action: String,
    /// The destination of `move`.
    category: String,
}

async fn http_post_moderate(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ModerateForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let flash = match form.action.as_str() {
        "lock" => {
            threads::set_locked(ctx, &user.account, id, true).await?;
            "flash.forum.locked"
        }
        "unlock" => {
            threads::set_locked(ctx, &user.account, id, false).await?;
            "flash.forum.unlocked"
        }
        "pin" => {
            threads::set_pinned(ctx, &user.account, id, true).await?;
            "flash.forum.pinned"
        }
        "unpin" => {
            threads::set_pinned(ctx, &user.account, id, false).await?;
            "flash.forum.unpinned"
        }
        "move" => {
            threads::move_to(ctx, &user.account, id, &form.category).await?;
            "flash.forum.moved"
        }
        _ => return Err(AppError::field("action", "forum.field.unknown_action")),
    };
    let mut conn = ctx.conn().await?;
    let (post, _, _) = threads::live_thread(&mut conn, id).await?;
    Ok(redirect_with_flash(
        ctx,
        &local_path(&page_url(&post)),
        flash,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FollowForm {
    follow: String,
    back: String,
}

async fn http_post_follow(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<FollowForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let on = form.follow == "on";
    subscriptions::set(ctx, &user.account, &Target::Thread(id), on).await?;
    let fallback = {
        let mut conn = ctx.conn().await?;
        let (post, _, _) = threads::live_thread(&mut conn, id).await?;
        local_path(&page_url(&post))
    };
    Ok(redirect_with_flash(
        ctx,
        &back_path(&form.back, &fallback),
        if on {
            "flash.forum.following_thread"
        } else {
            "flash.forum.not_following_thread"
        },
    ))
}
