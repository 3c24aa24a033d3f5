//! The public page of a post or announcement, content-negotiated: the bare id is also its
//! ActivityPub id and answers the Article/Note to ActivityPub clients.

use super::*;

#[derive(Template)]
#[template(path = "posts/show.html")]
pub(super) struct ShowPage<'a> {
    lang: Lang,
    csrf: &'a str,
    /// Canonical, Open Graph and ActivityPub links of `<head>`.
    head: crate::web::pages::feeds::HeadMeta,
    post: PostView,
    comments: crate::web::pages::comments::CommentsSection,
    reactions: crate::web::pages::reactions::ReactionsView,
}

/// `/posts/{id}` and `/announcements/{id}`: the Article/Note for ActivityPub clients (410 with
/// a Tombstone once deleted), the page for browsers (with its page of comments).
#[allow(clippy::too_many_arguments)]
pub(super) async fn show(
    data: &Data,
    category: Category,
    id: &str,
    slug: Option<&str>,
    headers: &HeaderMap,
    lang: Lang,
    user: Option<CurrentUser>,
    comments_page: crate::web::pages::comments::CommentsPage,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let viewer = user.as_ref().map(|u| &u.account);
    let found = publishing::lookup(ctx, viewer, category, id).await?;
    // The slugged URL is the page's alone; the bare id is negotiated.
    if slug.is_none() && face(headers, Face::Page) == Face::Document {
        let response = match found {
            Lookup::Gone(post) => (
                StatusCode::GONE,
                FederationJson(WithContext::new_default(tombstone(&post))),
            )
                .into_response(),
            Lookup::Found(post, author) => {
                // Documents are public: a draft or a post the moderators withhold is not
                // served, whoever asks.
                if !post.is_public() || author.blocked_at.is_some() {
                    return Err(AppError::not_found());
                }
                {
                    let mut conn = ctx.conn().await?;
                    if db::actors::is_sanctioned(&mut conn, author.id).await? {
                        return Err(AppError::not_found());
                    }
                }
                if !post.local {
                    // A remote post kept here: its object is at its own id.
                    return Ok(vary_accept(
                        (StatusCode::FOUND, [(header::LOCATION, post.ap_id.clone())])
                            .into_response(),
                    ));
                }
                let counts = {
                    let mut conn = ctx.conn().await?;
                    crate::service::reactions::counts_of(&mut conn, &post.ap_id).await?
                };
                let object = crate::federation::outbox::object_json(ctx, &post, &author, counts)?;
                FederationJson(WithContext::new_default(object)).into_response()
            }
        };
        return Ok(vary_accept(response));
    }
    let (post, author) = match found {
        Lookup::Found(post, author) => (*post, *author),
        Lookup::Gone(_) => return Err(AppError::new(ErrorKind::Gone, "this was deleted")),
    };
    if slug.is_some_and(|s| s != post.slug) {
        return Ok(Redirect::permanent(&page_url(&post)).into_response());
    }
    let csrf = user.as_ref().map(|u| u.csrf_token.as_str()).unwrap_or("");
    let mut shown = crate::web::pages::comments::remote_view(
        view(lang, &post, &author, viewer),
        &post,
        &author,
    );
    // The body's headings go under the title's h1 (a remote body may open with an h4).
    shown.body = std::mem::take(&mut shown.body).nest_headings(2);
    shown.moderation_notice = super::moderation_notice(ctx, &post).await?;
    let page = render(&ShowPage {
        lang,
        csrf,
        head: crate::web::pages::feeds::HeadMeta::of_post(ctx, &post, &author),
        post: shown,
        comments: crate::web::pages::comments::section(ctx, lang, &post, viewer, comments_page)
            .await?,
        reactions: crate::web::pages::reactions::view_for(ctx, lang, &post, viewer).await?,
    })?;
    Ok(vary_accept(page))
}

pub(super) async fn http_get_post(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    comments_page: crate::web::pages::comments::CommentsPage,
) -> AppResult<Response> {
    show(
        &data,
        Category::Post,
        &id,
        None,
        &headers,
        lang,
        user,
        comments_page,
    )
    .await
}

pub(super) async fn http_get_post_slug(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path((id, slug)): Path<(String, String)>,
    headers: HeaderMap,
    comments_page: crate::web::pages::comments::CommentsPage,
) -> AppResult<Response> {
    show(
        &data,
        Category::Post,
        &id,
        Some(&slug),
        &headers,
        lang,
        user,
        comments_page,
    )
    .await
}

pub(super) async fn http_get_announcement(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    comments_page: crate::web::pages::comments::CommentsPage,
) -> AppResult<Response> {
    show(
        &data,
        Category::Announcement,
        &id,
        None,
        &headers,
        lang,
        user,
        comments_page,
    )
    .await
}

pub(super) async fn http_get_announcement_slug(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path((id, slug)): Path<(String, String)>,
    headers: HeaderMap,
    comments_page: crate::web::pages::comments::CommentsPage,
) -> AppResult<Response> {
    show(
        &data,
        Category::Announcement,
        &id,
        Some(&slug),
        &headers,
        lang,
        user,
        comments_page,
    )
    .await
}
