//! `/users/{username}`: the public profile page of a member, or its actor document for
//! ActivityPub clients (content negotiation, `federation::negotiation`).

use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, actors::DbActor, posts::Listing},
    error::{AppError, AppResult},
    federation::{
        Data,
        negotiation::{Face, negotiate},
        routes::user_document,
    },
    i18n::Lang,
    sanitize::{SafeHtml, plain_text},
    service::{
        actors::{INSTANCE_ACTOR_USERNAME, channel_summary, is_channel},
        profile,
    },
    web::pages::{
        admin::kind_key,
        feeds::{HeadMeta, feed_links},
        from_headers, layout,
        news::{self, NewsItem},
        render,
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Path,
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

pub fn routes() -> Router {
    Router::new().route("/users/{username}", get(http_get_user))
}

/// `/users/{username}`: the actor document for ActivityPub clients, the profile page otherwise.
async fn http_get_user(
    data: Data,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    negotiate(
        &headers,
        Face::Page,
        render_profile(&data, &username, &headers),
        user_document(&data, &username),
    )
    .await
}

#[derive(Template)]
#[template(path = "profile/show.html")]
struct ProfilePage<'a> {
    lang: Lang,
    name: &'a str,
    /// `@username@host`, as other fediverse servers know this account.
    handle: String,
    kind_label: &'static str,
    bio: SafeHtml,
    avatar_url: Option<String>,
    disciplines: &'a [String],
    commune: &'a str,
    website: &'a str,
    is_own: bool,
    /// Feed links, Open Graph and the actor's ActivityPub id for `<head>`.
    head: HeadMeta,
    /// `/blog/{username}`.
    blog_url: String,
    /// The latest posts and announcements published as this actor.
    latest: Vec<NewsItem>,
    /// What the member directory shows of a member (none for the page actors).
    directory: Option<DirectoryFacts>,
}

impl ProfilePage<'_> {
    fn has_directory_facts(&self) -> bool {
        self.directory.as_ref().is_some_and(|d| !d.is_empty())
    }
}

/// A member's directory kind, postal code, address and public contacts.
struct DirectoryFacts {
    kind_label: &'static str,
    postal_code: String,
    address: String,
    phone: String,
    /// `tel:` form of the phone (digits and a leading `+`).
    phone_href: String,
    contact_email: String,
    /// Only `http(s)` links.
    links: Vec<String>,
}

impl DirectoryFacts {
    fn of(lang: Lang, account: &crate::db::accounts::DbAccount) -> Self {
        let kind_label = crate::service::directory::DirectoryKind::parse(&account.directory_kind)
            .map_or("", |k| lang.t(k.label_key()));
        DirectoryFacts {
            kind_label,
            postal_code: account.postal_code.clone(),
            address: account.address.clone(),
            phone: account.phone.clone(),
            phone_href: account
                .phone
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect(),
            contact_email: account.contact_email.clone(),
            links: account
                .links
                .iter()
                .map(|l| safe_link(l))
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.kind_label.is_empty()
            && self.address.is_empty()
            && self.phone.is_empty()
            && self.contact_email.is_empty()
            && self.links.is_empty()
    }
}

/// Posts and announcements listed on a profile.
const PROFILE_LATEST: i64 = 5;

#[derive(Template)]
#[template(path = "profile/channel.html")]
struct ChannelPage<'a> {
    lang: Lang,
    name: &'a str,
    /// `@annonces@host`: what a fediverse user types to follow the channel.
    handle: String,
    bio: SafeHtml,
    head: HeadMeta,
    /// The latest public announcements (what the channel boosted).
    latest: Vec<NewsItem>,
}

/// Announcements listed on the channel's page.
const CHANNEL_LATEST: i64 = 10;

/// The announcement channel's page: what it is, how to follow it, the latest announcements.
async fn render_channel(ctx: &AppContext, lang: Lang, actor: &DbActor) -> AppResult<Response> {
    let name = if actor.name.is_empty() {
        &actor.username
    } else {
        &actor.name
    };
    // In the reader's language (the actor document speaks the instance's).
    let bio = channel_summary(ctx, lang);
    let head = HeadMeta::page(
        ctx,
        "profile",
        name,
        &plain_text(bio.as_str()),
        &format!("/users/{}", actor.username),
    )
    .with_feeds(feed_links(lang.t("announcements.title"), "/annonces", ""))
    .with_activity_json(&actor.ap_id);
    let latest = news::latest(ctx, lang, Listing::Announcements, CHANNEL_LATEST).await?;
    render(&ChannelPage {
        lang,
        name,
        handle: format!("@{}@{}", actor.username, ctx.config.domain()),
        bio,
        head,
        latest,
    })
}

/// The `<head>` of a profile (with the blog's feeds) and its latest publications.
async fn blog_of(
    ctx: &AppContext,
    lang: Lang,
    actor_id: i64,
    username: &str,
    name: &str,
    bio: &SafeHtml,
) -> AppResult<(HeadMeta, String, Vec<NewsItem>)> {
    let blog_url = format!("/blog/{username}");
    let feeds_title = format!(
        "{} {name}",
        lang.t(if username == ctx.config.instance.page_actor {
            "posts.page_blog_of"
        } else {
            "posts.blog_of"
        })
    );
    let head = HeadMeta::page(
        ctx,
        "profile",
        name,
        &plain_text(bio.as_str()),
        &format!("/users/{username}"),
    )
    .with_feeds(feed_links(&feeds_title, &blog_url, ""))
    .with_activity_json(&ctx.urls.user(username));
    let latest = news::latest(ctx, lang, Listing::Actor(actor_id), PROFILE_LATEST).await?;
    Ok((head, blog_url, latest))
}

/// Only http(s) links become `href`s, whatever is stored.
fn safe_link(url: &str) -> &str {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        url
    } else {
        ""
    }
}

/// Renders the profile page.
pub async fn render_profile(
    data: &Data,
    username: &str,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let lang = from_headers(headers);
    let wanted = username.to_lowercase();
    let (account, actor): (Option<DbAccount>, Option<DbActor>) = {
        let mut conn = ctx.conn().await?;
        match db::accounts::by_login(&mut conn, &wanted)
            .await?
            .filter(|a| a.username == wanted)
        {
            Some(account) => (Some(account), None),
            None => (
                None,
                db::actors::local_by_username(&mut conn, &wanted).await?,
            ),
        }
    };
    let canonical = account
        .as_ref()
        .map(|a| a.username.as_str())
        .or(actor.as_ref().map(|a| a.username.as_str()));
    if let Some(canonical) = canonical
        && canonical != username
    {
        return Ok(Redirect::permanent(&format!("/users/{canonical}")).into_response());
    }
    let handle = |name: &str| format!("@{name}@{}", ctx.config.domain());
    if account.as_ref().is_some_and(|a| a.suspended_at.is_some()) {
        // A suspended account is gone for the public, as its actor document says.
        return Err(AppError::new(
            crate::error::ErrorKind::Gone,
            "this account is suspended",
        ));
    }
    if let Some(account) = &account {
        let is_own = layout::chrome()
            .user
            .as_ref()
            .is_some_and(|u| u.username == account.username);
        let name = if account.display_name.is_empty() {
            &account.username
        } else {
            &account.display_name
        };
        let bio = SafeHtml::from_trusted_storage(account.bio_html.clone());
        let (head, blog_url, latest) =
            blog_of(ctx, lang, account.actor_id, &account.username, name, &bio).await?;
        return render(&ProfilePage {
            lang,
            name,
            handle: handle(&account.username),
            kind_label: lang.t(kind_key(&account.kind)),
            bio,
            avatar_url: profile::avatar_path_url(account),
            disciplines: &account.disciplines,
            commune: &account.commune,
            website: safe_link(&account.website),
            is_own,
            head,
            blog_url,
            latest,
            directory: Some(DirectoryFacts::of(lang, account)),
        });
    }
    // A local actor without an account: the announcement channel, or the département's page.
    if let Some(actor) = actor.as_ref().filter(|a| is_channel(ctx, a)) {
        return render_channel(ctx, lang, actor).await;
    }
    match actor {
        Some(actor)
            if actor.username != INSTANCE_ACTOR_USERNAME
                && actor.deleted_at.is_none()
                && matches!(actor.kind.as_str(), "Person" | "Organization") =>
        {
            let name = if actor.name.is_empty() {
                &actor.username
            } else {
                &actor.name
            };
            // Written only from SafeHtml, but it is a column other code writes too:
            // clean again, it is cheap.
            let bio = SafeHtml::clean(&actor.summary_html);
            let (head, blog_url, latest) =
                blog_of(ctx, lang, actor.id, &actor.username, name, &bio).await?;
            render(&ProfilePage {
                lang,
                name,
                handle: handle(&actor.username),
                kind_label: lang.t("kind.page"),
                bio,
                avatar_url: None,
                disciplines: &[],
                commune: "",
                website: "",
                is_own: false,
                head,
                blog_url,
                latest,
                directory: None,
            })
        }
        _ => Err(AppError::not_found()),
    }
}
