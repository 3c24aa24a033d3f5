//! The forum's objects on the wire: a thread is a `Page` (Lemmy's shape: `name`, `content`,
//! `audience` = its category, `commentsEnabled`, `stickied`), a reply is the usual comment
//! `Note` with its category as `audience`, and a category is a `Group` whose extra terms
//! (`featured`, `moderators`, `postingRestrictedToMods`) are Lemmy's.

use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        comments::DbComment,
        forum::{DbCategory, DbThread},
        posts::DbPost,
    },
    error::{AppError, AppResult},
    federation::objects::{PUBLIC, actor_context, comment, person::local_person},
    service::publishing::page_url,
};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};

/// The `@context` of forum documents: the actor context with Lemmy's and PeerTube's terms.
pub fn forum_context() -> Value {
    let mut context = actor_context();
    if let Some(items) = context.as_array_mut()
        && let Some(Value::Object(map)) = items.last_mut()
    {
        map.insert("lemmy".into(), json!("https://join-lemmy.org/ns#"));
        map.insert("pt".into(), json!("https://joinpeertube.org/ns#"));
        map.insert("sensitive".into(), json!("as:sensitive"));
        map.insert("stickied".into(), json!("lemmy:stickied"));
        map.insert("commentsEnabled".into(), json!("pt:commentsEnabled"));
        map.insert(
            "postingRestrictedToMods".into(),
            json!("lemmy:postingRestrictedToMods"),
        );
        map.insert(
            "moderators".into(),
            json!({"@type": "@id", "@id": "lemmy:moderators"}),
        );
        map.insert(
            "featured".into(),
            json!({"@type": "@id", "@id": "toot:featured"}),
        );
    }
    context
}

/// `audience` of everything said in a category: `to` Public, `cc` the category.
pub fn addressed(category_actor: &DbActor) -> (Value, Value) {
    (json!([PUBLIC]), json!([category_actor.ap_id]))
}

/// A thread as a `Page`. `thread`: its forum state (locked → `commentsEnabled: false`,
/// pinned → `stickied`).
pub fn page(
    ctx: &AppContext,
    post: &DbPost,
    thread: &DbThread,
    category_actor: &DbActor,
    author: &DbActor,
) -> Value {
    let (to, cc) = addressed(category_actor);
    let url = if post.local {
        page_url(post)
    } else {
        post.url.clone().unwrap_or_else(|| post.ap_id.clone())
    };
    let mut page = json!({
        "type": "Page",
        "id": post.ap_id,
        "attributedTo": author.ap_id,
        "name": post.title,
        "content": post.body_html,
        "mediaType": "text/html",
        "url": url,
        "audience": category_actor.ap_id,
        "to": to,
        "cc": cc,
        "published": post.published_at.unwrap_or(post.created_at),
        "commentsEnabled": !thread.is_locked(),
        "stickied": thread.is_pinned(),
        "sensitive": post.content_warning.is_some(),
    });
    if post.local && !post.body_markdown.is_empty() {
        page["source"] = json!({"content": post.body_markdown, "mediaType": "text/markdown"});
    }
    if post.updated_at > post.published_at.unwrap_or(post.created_at) && post.local {
        page["updated"] = json!(post.updated_at);
    }
    if let Some(cw) = &post.content_warning {
        page["summary"] = json!(cw);
    }
    let _ = ctx;
    page
}

/// A thread's `Page` read from the database (its state, category and author).
pub async fn page_of(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
) -> AppResult<(Value, DbCategory, DbActor)> {
    let thread = db::forum::thread(conn, post.id)
        .await?
        .ok_or_else(|| AppError::internal("a thread without its forum state"))?;
    let category = db::forum::category_by_id(conn, thread.category_id)
        .await?
        .ok_or_else(|| AppError::internal("a thread without its category"))?;
    let category_actor = db::actors::by_id(conn, category.actor_id).await?;
    let author = db::actors::by_id(conn, post.author_actor_id).await?;
    Ok((
        page(ctx, post, &thread, &category_actor, &author),
        category,
        category_actor,
    ))
}

/// A reply of a thread as a `Note`: ours as `objects::comment` makes it, another server's
/// rebuilt from the stored row; both with the category as `audience` (and in `cc`).
pub async fn reply_note(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    reply: &DbComment,
    category_actor: &DbActor,
) -> AppResult<Value> {
    let author = db::actors::by_id(conn, reply.author_actor_id).await?;
    let mut note = if author.local {
        let parent = crate::service::comments::find_parent(ctx, conn, &reply.in_reply_to)
            .await?
            .ok_or_else(|| AppError::internal("the parent of a comment is missing"))?;
        let parent_author = db::actors::by_id(conn, parent.author_actor_id()).await?;
        let counts = crate::service::reactions::counts_of(conn, &reply.ap_id).await?;
        serde_json::to_value(comment::note(ctx, reply, &author, &parent_author, counts)?)?
    } else {
        let (to, cc) = addressed(category_actor);
        let mut note = json!({
            "type": "Note",
            "id": reply.ap_id,
            "attributedTo": author.ap_id,
            "inReplyTo": reply.in_reply_to,
            "content": reply.body_html,
            "mediaType": "text/html",
            "url": reply.url.clone().unwrap_or_else(|| reply.ap_id.clone()),
            "published": reply.published_at,
            "to": to,
            "cc": cc,
        });
        if let Some(cw) = &reply.content_warning {
            note["summary"] = json!(cw);
            note["sensitive"] = json!(true);
        }
        note
    };
    note["audience"] = json!(category_actor.ap_id);
    if let Some(Value::Array(cc)) = note.get_mut("cc")
        && !cc
            .iter()
            .any(|c| c.as_str() == Some(category_actor.ap_id.as_str()))
    {
        cc.push(json!(category_actor.ap_id));
    }
    Ok(note)
}

/// A category's `Group`: the actor document of its row, with Lemmy's community terms.
pub async fn group(ctx: &AppContext, category: &DbCategory, actor: DbActor) -> AppResult<Value> {
    let slug = &category.slug;
    let mut group = serde_json::to_value(local_person(actor)?)?;
    group["name"] = json!(category.name);
    group["summary"] = json!(category.description_html);
    group["source"] = json!({
        "content": category.description_markdown,
        "mediaType": "text/markdown",
    });
    let moderators = ctx.urls.forum_category_part(slug, "moderators");
    group["attributedTo"] = json!(moderators);
    group["moderators"] = json!(moderators);
    group["featured"] = json!(ctx.urls.forum_category_part(slug, "featured"));
    group["postingRestrictedToMods"] = json!(false);
    group["manuallyApprovesFollowers"] = json!(false);
    group["discoverable"] = json!(true);
    group["sensitive"] = json!(false);
    group["published"] = json!(category.created_at);
    group["updated"] = json!(category.updated_at);
    if let Value::Object(map) = &mut group {
        map.insert("@context".into(), forum_context());
    }
    Ok(group)
}
