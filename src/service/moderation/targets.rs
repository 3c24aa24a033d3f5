//! What a report names: a URL (an ActivityPub id or a page address, local or remote) resolved
//! to a stored object, with a snapshot of it as it is now — kept with the report even if the
//! author edits or deletes it afterwards.
//!
//! A later feature whose objects can be reported adds its [`TargetKind`] and a lookup here.

use super::TargetKind;
use crate::{
    context::AppContext,
    db::{
        self, Conn,
        reports::NewReportTarget,
        schema::{actors, comments, posts},
    },
    error::AppResult,
    service::publishing::page_url,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use url::Url;

/// A stored object a report can name.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub kind: TargetKind,
    /// Its ActivityPub id.
    pub ap_id: String,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    /// A venue (its actor is `actor_id` too) or an offer of the sharing directory.
    pub venue_id: Option<i64>,
    pub offer_id: Option<i64>,
    /// Its author (the actor itself for an actor).
    pub author_actor_id: i64,
    /// Ours, or kept from another server.
    pub local: bool,
    pub snapshot: Snapshot,
}

impl Target {
    /// The row of `report_targets` (its `report_id` is set by the insert).
    pub fn to_new(&self) -> AppResult<NewReportTarget> {
        Ok(NewReportTarget {
            report_id: 0,
            kind: self.kind.as_str().to_string(),
            ap_id: self.ap_id.clone(),
            actor_id: self.actor_id,
            post_id: self.post_id,
            comment_id: self.comment_id,
            venue_id: self.venue_id,
            offer_id: self.offer_id,
            snapshot: serde_json::to_value(&self.snapshot)
                .map_err(|e| crate::error::AppError::internal(format!("snapshot: {e}")))?,
        })
    }
}

/// The reported content as it was when reported.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// A post's title or an actor's display name; empty for a comment.
    #[serde(default)]
    pub title: String,
    /// Sanitised HTML (it was stored sanitised): the body, or the actor's presentation.
    #[serde(default)]
    pub html: String,
    #[serde(default)]
    pub author_name: String,
    #[serde(default)]
    pub author_ap_id: String,
    /// Where it could be read when reported (absolute URL or local path).
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub captured_at: Option<DateTime<Utc>>,
}

impl Snapshot {
    /// A stored snapshot (an unreadable one reads as empty rather than failing the page).
    pub fn from_json(value: &serde_json::Value) -> Snapshot {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }
}

/// The ids `url` may be stored under: itself without its fragment and, for one of our page
/// addresses (`/posts/{id}/{slug}`), the id without the slug.
fn candidate_ids(ctx: &AppContext, url: &Url) -> Vec<String> {
    let mut plain = url.clone();
    plain.set_fragment(None);
    plain.set_query(None);
    let mut out = vec![plain.to_string()];
    if url.as_str().starts_with(ctx.urls.base()) {
        let segments: Vec<&str> = plain
            .path_segments()
            .map(|s| s.collect())
            .unwrap_or_default();
        if let [kind @ ("posts" | "announcements"), id, _slug] = segments.as_slice() {
            out.push(ctx.urls.absolute(&format!("/{kind}/{id}")));
        }
        if let [at_name] = segments.as_slice()
            && let Some(name) = at_name.strip_prefix('@')
        {
            out.push(ctx.urls.user(name));
        }
    }
    out.dedup();
    out
}

/// The comment a page address points at with its `#comment-{id}` anchor.
fn anchored_comment(ctx: &AppContext, url: &Url) -> Option<i64> {
    if !url.as_str().starts_with(ctx.urls.base()) {
        return None;
    }
    url.fragment()?.strip_prefix("comment-")?.parse().ok()
}

/// The stored object `url` names, or `None` when nothing here matches it.
pub async fn find(ctx: &AppContext, conn: &mut Conn, url: &Url) -> AppResult<Option<Target>> {
    let now = Some(Utc::now());
    if let Some(id) = anchored_comment(ctx, url)
        && let Some(comment) = db::comments::by_id(conn, id).await?
    {
        return comment_target(ctx, conn, comment, now).await.map(Some);
    }
    if let Some(target) = offer_target(ctx, conn, url, now).await? {
        return Ok(Some(target));
    }
    if let Some(target) = resource_target(ctx, conn, url, now).await? {
        return Ok(Some(target));
    }
    for id in candidate_ids(ctx, url) {
        let actor: Option<db::actors::DbActor> = actors::table
            .filter(actors::ap_id.eq(&id).or(actors::url.eq(&id)))
            .select(db::actors::DbActor::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(actor) = actor {
            if actor.local
                && let Some(venue) = db::venues::by_actor_id(conn, actor.id).await?
            {
                return venue_target(conn, actor, venue, now).await.map(Some);
            }
            let page = actor.url.clone().unwrap_or_else(|| actor.ap_id.clone());
            return Ok(Some(Target {
                kind: TargetKind::Actor,
                ap_id: actor.ap_id.clone(),
                actor_id: Some(actor.id),
                post_id: None,
                comment_id: None,
                venue_id: None,
                offer_id: None,
                author_actor_id: actor.id,
                local: actor.local,
                snapshot: Snapshot {
                    title: actor.name.clone(),
                    html: actor.summary_html.clone(),
                    author_name: actor.name.clone(),
                    author_ap_id: actor.ap_id.clone(),
                    url: page,
                    published_at: Some(actor.published),
                    captured_at: now,
                },
            }));
        }
        let post: Option<db::posts::DbPost> = posts::table
            .filter(posts::ap_id.eq(&id).or(posts::url.eq(&id)))
            .select(db::posts::DbPost::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(post) = post {
            let author = db::actors::by_id(conn, post.author_actor_id).await?;
            let url = page_url(&post);
            return Ok(Some(Target {
                kind: TargetKind::Post,
                ap_id: post.ap_id.clone(),
                actor_id: None,
                post_id: Some(post.id),
                comment_id: None,
                venue_id: None,
                offer_id: None,
                author_actor_id: author.id,
                local: post.local,
                snapshot: Snapshot {
                    title: post.title.clone(),
                    html: post.body_html.clone(),
                    author_name: author.name.clone(),
                    author_ap_id: author.ap_id.clone(),
                    url: absolute(ctx, url),
                    published_at: post.published_at,
                    captured_at: now,
                },
            }));
        }
        let comment: Option<db::comments::DbComment> = comments::table
            .filter(comments::ap_id.eq(&id).or(comments::url.eq(&id)))
            .select(db::comments::DbComment::as_select())
            .first(conn)
            .await
            .optional()?;
        if let Some(comment) = comment {
            return comment_target(ctx, conn, comment, now).await.map(Some);
        }
    }
    Ok(None)
}

/// A venue: its actor, with its owner as the author (the one a decision is addressed to).
async fn venue_target(
    conn: &mut Conn,
    actor: db::actors::DbActor,
    venue: db::venues::DbVenue,
    now: Option<DateTime<Utc>>,
) -> AppResult<Target> {
    let owner = db::accounts::by_id(conn, venue.owner_account_id).await?;
    let owner_actor = db::actors::by_id(conn, owner.actor_id).await?;
    Ok(Target {
        kind: TargetKind::Venue,
        ap_id: actor.ap_id.clone(),
        actor_id: Some(actor.id),
        post_id: None,
        comment_id: None,
        venue_id: Some(venue.id),
        offer_id: None,
        author_actor_id: owner_actor.id,
        local: true,
        snapshot: Snapshot {
            title: venue.name.clone(),
            html: venue.description_html.clone(),
            author_name: owner_actor.name.clone(),
            author_ap_id: owner_actor.ap_id.clone(),
            url: actor.ap_id.clone(),
            published_at: Some(venue.created_at),
            captured_at: now,
        },
    })
}

async fn comment_target(
    ctx: &AppContext,
    conn: &mut Conn,
    comment: db::comments::DbComment,
    now: Option<DateTime<Utc>>,
) -> AppResult<Target> {
    let author = db::actors::by_id(conn, comment.author_actor_id).await?;
    let url = match db::posts::by_id(conn, comment.post_id).await? {
        Some(post) => absolute(
            ctx,
            crate::service::publishing::comment_anchor(conn, &post, comment.id).await?,
        ),
        None => comment.url.clone().unwrap_or_else(|| comment.ap_id.clone()),
    };
    Ok(Target {
        kind: TargetKind::Comment,
        ap_id: comment.ap_id.clone(),
        actor_id: None,
        post_id: None,
        comment_id: Some(comment.id),
        venue_id: None,
        offer_id: None,
        author_actor_id: author.id,
        local: author.local,
        snapshot: Snapshot {
            title: String::new(),
            html: comment.body_html.clone(),
            author_name: author.name.clone(),
            author_ap_id: author.ap_id.clone(),
            url,
            published_at: Some(comment.published_at),
            captured_at: now,
        },
    })
}

/// An offer of the sharing directory, named by its page (`/mutualisation/{id}`): offers are
/// not ActivityPub objects, so their page address is their id here.
async fn offer_target(
    ctx: &AppContext,
    conn: &mut Conn,
    url: &Url,
    now: Option<DateTime<Utc>>,
) -> AppResult<Option<Target>> {
    if !url.as_str().starts_with(ctx.urls.base()) {
        return Ok(None);
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let ["mutualisation", id] = segments.as_slice() else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let Some(offer) = db::offers::by_id(conn, id)
        .await?
        .filter(|o| o.deleted_at.is_none())
    else {
        return Ok(None);
    };
    let owner = db::accounts::by_id(conn, offer.account_id).await?;
    let author = db::actors::by_id(conn, owner.actor_id).await?;
    let page = ctx
        .urls
        .absolute(&crate::service::sharing::page_path(offer.id));
    Ok(Some(Target {
        kind: TargetKind::Offer,
        ap_id: page.clone(),
        actor_id: None,
        post_id: None,
        comment_id: None,
        venue_id: None,
        offer_id: Some(offer.id),
        author_actor_id: author.id,
        local: true,
        snapshot: Snapshot {
            title: offer.title.clone(),
            html: offer.description_html.clone(),
            author_name: author.name.clone(),
            author_ap_id: author.ap_id.clone(),
            url: page,
            published_at: Some(offer.created_at),
            captured_at: now,
        },
    }))
}

/// A resource of the library, named by its page (`/ressources/{id}`), which is its id. Only
/// ours: resources are not received from other servers.
async fn resource_target(
    ctx: &AppContext,
    conn: &mut Conn,
    url: &Url,
    now: Option<DateTime<Utc>>,
) -> AppResult<Option<Target>> {
    if !url.as_str().starts_with(ctx.urls.base()) {
        return Ok(None);
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let ["ressources", id] = segments.as_slice() else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    let Some(resource) = db::resources::by_id(conn, id)
        .await?
        .filter(|r| r.deleted_at.is_none())
    else {
        return Ok(None);
    };
    let author = db::actors::by_id(conn, resource.author_actor_id).await?;
    Ok(Some(Target {
        kind: TargetKind::Resource,
        ap_id: resource.ap_id.clone(),
        actor_id: None,
        post_id: None,
        comment_id: None,
        venue_id: None,
        offer_id: None,
        author_actor_id: author.id,
        local: true,
        snapshot: Snapshot {
            title: resource.title.clone(),
            html: resource.body_html.clone(),
            author_name: author.name.clone(),
            author_ap_id: author.ap_id.clone(),
            url: resource.ap_id.clone(),
            published_at: Some(resource.created_at),
            captured_at: now,
        },
    }))
}

fn absolute(ctx: &AppContext, url: String) -> String {
    if url.starts_with('/') {
        ctx.urls.absolute(&url)
    } else {
        url
    }
}
