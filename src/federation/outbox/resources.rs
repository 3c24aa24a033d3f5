//! Resources of the library on the wire. A public resource is an `Article` at its page URL
//! (`/ressources/{id}`), attributed to its author, with a real `summary` and its file as an
//! `attachment`. The département page (`instance.page_actor`) announces it to its followers
//! when it becomes public; edits go out as `Update` from the author to those same inboxes;
//! when it stops being public (deleted, hidden, turned members-only) the author sends a
//! `Delete` of a Tombstone and the page withdraws its `Announce`. Members-only resources
//! produce nothing: `service::resources` never records an event for them.

use super::{Outgoing, channel::undo_announce, with_context};
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        resources::{DbResource, DbResourceVersion},
    },
    error::{AppError, AppResult},
    federation::{
        activities::{
            announce::Announce,
            create_or_update::{CreateOrUpdate, CreateOrUpdateType},
            delete::Delete,
            new_activity_id,
        },
        delivery::followers_inboxes,
        objects::PUBLIC,
    },
    sanitize::{SafeHtml, escape_text, excerpt, plain_text},
    service::resources::{Theme, download_path},
};
use activitypub_federation::{fetch::object_id::ObjectId, kinds::activity::DeleteType};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use url::Url;

/// Longest `summary` made from the body, in characters.
const SUMMARY_CHARS: usize = 400;

/// The département page, which announces the public resources.
async fn page_actor(ctx: &AppContext, conn: &mut AsyncPgConnection) -> AppResult<DbActor> {
    db::actors::by_ap_id(conn, &ctx.urls.user(&ctx.config.instance.page_actor))
        .await?
        .ok_or_else(|| AppError::internal("the page actor is missing"))
}

/// The plain-text summary: an excerpt of the body, else the theme's label.
fn summary(ctx: &AppContext, resource: &DbResource) -> String {
    let text = excerpt(&plain_text(&resource.body_html), SUMMARY_CHARS);
    if text.is_empty() {
        Theme::parse(&resource.theme)
            .map(|t| ctx.default_lang.t(t.label_key()).to_string())
            .unwrap_or_default()
    } else {
        text
    }
}

/// `to` and `cc`: Public, and the followers of the page that announces it.
fn audience(page: &DbActor) -> AppResult<(Vec<Url>, Vec<Url>)> {
    let cc = match &page.followers_url {
        Some(f) => vec![Url::parse(f)?],
        None => Vec::new(),
    };
    Ok((vec![Url::parse(PUBLIC)?], cc))
}

/// The `Article` of a public resource, with its latest file version when it has one.
pub fn resource_json(
    ctx: &AppContext,
    resource: &DbResource,
    author: &DbActor,
    latest: Option<&DbResourceVersion>,
    page_followers: Option<&str>,
) -> AppResult<Value> {
    let mut content = match &resource.link_url {
        Some(link) => SafeHtml::from_markdown(&format!("{}\n\n<{link}>", resource.body_markdown))
            .into_string(),
        None => resource.body_html.clone(),
    };
    if content.is_empty() {
        content = format!("<p>{}</p>", escape_text(&resource.title));
    }
    let attachment: Vec<Value> = latest
        .map(|v| {
            json!({
                "type": "Document",
                "mediaType": v.content_type,
                "url": ctx.urls.absolute(&download_path(resource.id, v.version)),
                "name": v.file_name,
            })
        })
        .into_iter()
        .collect();
    let tag: Vec<Value> = resource
        .disciplines
        .iter()
        .map(|d| {
            let name: String = d.chars().filter(|c| c.is_alphanumeric()).collect();
            json!({ "type": "Hashtag", "name": format!("#{name}") })
        })
        .collect();
    let mut cc = Vec::new();
    if let Some(f) = page_followers {
        cc.push(f.to_string());
    }
    Ok(json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Article",
        "id": resource.ap_id,
        "url": resource.ap_id,
        "attributedTo": author.ap_id,
        "name": resource.title,
        "summary": escape_text(&summary(ctx, resource)),
        "content": content,
        "mediaType": "text/html",
        "source": { "content": resource.body_markdown, "mediaType": "text/markdown" },
        "published": resource.created_at,
        "updated": resource.updated_at,
        "to": [PUBLIC],
        "cc": cc,
        "tag": tag,
        "attachment": attachment,
        "sensitive": false,
    }))
}

/// The document served at a public resource's URL (content negotiation, `web`).
pub async fn resource_document(
    ctx: &AppContext,
    resource: &DbResource,
    author: &DbActor,
    latest: Option<&DbResourceVersion>,
) -> AppResult<Value> {
    let mut conn = ctx.conn().await?;
    let page = page_actor(ctx, &mut conn).await?;
    resource_json(ctx, resource, author, latest, page.followers_url.as_deref())
}

async fn article_of(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    resource: &DbResource,
    author: &DbActor,
    page: &DbActor,
) -> AppResult<Value> {
    let latest = db::resources::versions(conn, resource.id)
        .await?
        .into_iter()
        .next();
    let mut value = resource_json(
        ctx,
        resource,
        author,
        latest.as_ref(),
        page.followers_url.as_deref(),
    )?;
    if let Some(map) = value.as_object_mut() {
        map.remove("@context");
    }
    Ok(value)
}

/// The page announces a resource that became public.
pub(super) async fn publish(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    resource: &DbResource,
    author: &DbActor,
) -> AppResult<()> {
    let page = page_actor(ctx, conn).await?;
    let id = new_activity_id(ctx)?;
    let announce = Announce::new(
        id.clone(),
        &page,
        &Url::parse(&resource.ap_id)?,
        Some(author),
    )?;
    let inboxes = followers_inboxes(conn, page.id).await?;
    Outgoing {
        id,
        kind: "Announce",
        actor: &page,
        object_ap_id: resource.ap_id.clone(),
        json: with_context(announce)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// The author's `Update` of a public resource, to the page's followers (who hold a copy).
pub(super) async fn update(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    resource: &DbResource,
    author: &DbActor,
) -> AppResult<()> {
    let page = page_actor(ctx, conn).await?;
    let (to, cc) = audience(&page)?;
    let id = new_activity_id(ctx)?;
    let activity = CreateOrUpdate::new(
        CreateOrUpdateType::Update,
        id.clone(),
        Url::parse(&author.ap_id)?,
        article_of(ctx, conn, resource, author, &page).await?,
        to,
        cc,
    );
    let inboxes = followers_inboxes(conn, page.id).await?;
    Outgoing {
        id,
        kind: "Update",
        actor: author,
        object_ap_id: resource.ap_id.clone(),
        json: with_context(activity)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// A resource stopped being public: the author's `Delete` of a Tombstone (servers drop their
/// copy and every boost of it), then the page's `Undo(Announce)`.
pub(super) async fn withdraw(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    resource: &DbResource,
    author: &DbActor,
) -> AppResult<()> {
    let page = page_actor(ctx, conn).await?;
    let (to, cc) = audience(&page)?;
    let id = new_activity_id(ctx)?;
    let activity = Delete {
        kind: DeleteType::Delete,
        id: id.clone(),
        actor: ObjectId::from(Url::parse(&author.ap_id)?),
        object: json!({
            "type": "Tombstone",
            "id": resource.ap_id,
            "formerType": "Article",
            "deleted": resource.deleted_at.or(resource.hidden_at).unwrap_or(resource.updated_at),
        }),
        to,
        cc,
    };
    let inboxes = followers_inboxes(conn, page.id).await?;
    Outgoing {
        id,
        kind: "Delete",
        actor: author,
        object_ap_id: resource.ap_id.clone(),
        json: with_context(activity)?,
        public: true,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await?;
    // Delivered, never listed: the resource may now be members-only, and the Undo names it.
    undo_announce(ctx, conn, &page, &resource.ap_id, false).await
}
