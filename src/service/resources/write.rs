//! The actions that change a resource. Each runs in one transaction and records the outbound
//! event that matches how its public face changed: became public → `ResourcePublished`,
//! stayed public → `ResourceUpdated`, stopped being public → `ResourceWithdrawn`; a resource
//! that was and stays members-only records nothing.

use super::{
    FileUpload, ResourceInput, ResourcePatch, can_change, can_curate, can_see, check,
    files::{check_upload, insert_version, store_file, unstore},
    page_path,
};
use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        resources::{DbResource, ResourceFields},
    },
    error::{AppError, AppResult, ErrorKind},
    service::{
        accounts::ensure_can_publish,
        outbound::{self, OutboundEvent},
    },
};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// Records the event that tells other servers how the resource's public face changed
/// between `before` (`None`: it did not exist) and `after`.
pub(super) async fn record_change(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    before: Option<&DbResource>,
    after: &DbResource,
) -> AppResult<()> {
    let was = before.is_some_and(DbResource::is_public);
    let is = after.is_public();
    if !was && !is {
        return Ok(());
    }
    let author = Box::new(db::actors::by_id(conn, after.author_actor_id).await?);
    let resource = Box::new(after.clone());
    let event = match (was, is) {
        (false, _) => OutboundEvent::ResourcePublished { resource, author },
        (true, true) => OutboundEvent::ResourceUpdated { resource, author },
        (true, false) => OutboundEvent::ResourceWithdrawn { resource, author },
    };
    outbound::record(ctx, conn, event).await
}

/// Proposes a new resource (any member with a confirmed address): visible at once. A file
/// is checked before anything is written; its bytes are stored first and removed again when
/// the rows cannot be written.
pub async fn create(
    ctx: &AppContext,
    account: &DbAccount,
    input: ResourceInput,
    file: Option<FileUpload>,
) -> AppResult<DbResource> {
    ensure_can_publish(ctx, account)?;
    let fields = check(&input, file.is_some());
    let file = file.map(|f| check_upload(ctx, f)).transpose();
    // Every field error at once, the file's included; a file over the limit is a 413.
    let (fields, file) = match (fields, file) {
        (Ok(fields), Ok(file)) => (fields, file),
        (_, Err(e)) if e.kind != ErrorKind::Validation => return Err(e),
        (Err(a), Err(b)) => {
            return Err(AppError::fields(
                a.fields.into_iter().chain(b.fields).collect(),
            ));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let mut conn = ctx.conn().await?;
    let id = db::resources::next_id(&mut conn).await?;
    let stored = match file {
        Some(file) => Some(store_file(ctx, id, file).await?),
        None => None,
    };
    let written = conn
        .transaction::<DbResource, AppError, _>(async |conn| {
            let resource = db::resources::insert(
                conn,
                id,
                &ctx.urls.absolute(&page_path(id)),
                account.actor_id,
                account.id,
                &fields,
            )
            .await?;
            if let Some(stored) = &stored {
                insert_version(conn, &resource, stored, account.actor_id).await?;
            }
            record_change(ctx, conn, None, &resource).await?;
            Ok(resource)
        })
        .await;
    if written.is_err()
        && let Some(stored) = &stored
    {
        unstore(ctx, stored).await;
    }
    written
}

/// The resource `account` may change, locked: 404 when they cannot see it, 403 when they
/// see it but are neither its author nor staff.
pub(super) async fn changeable_for_update(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    id: i64,
) -> AppResult<DbResource> {
    let resource = db::resources::by_id_for_update(conn, id)
        .await?
        .filter(|r| can_see(Some(account), r))
        .ok_or_else(AppError::not_found)?;
    if !can_change(account, &resource) {
        return Err(
            AppError::forbidden("only its author or staff may change this resource")
                .with_message("resources.not_yours"),
        );
    }
    Ok(resource)
}

/// Edits a resource (every field is given; see [`edit_partial`] for the API's `PATCH`).
pub async fn edit(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    input: ResourceInput,
) -> AppResult<DbResource> {
    edit_with(ctx, account, id, None, |_| input).await
}

/// Edits the fields given, keeping the others; `curated` (staff only) in the same
/// transaction, so that a refused part writes nothing.
pub async fn edit_partial(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    patch: ResourcePatch,
) -> AppResult<DbResource> {
    let curated = patch.curated;
    edit_with(ctx, account, id, curated, |r| {
        ResourceInput::of(r).patched(patch)
    })
    .await
}

async fn edit_with(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    curated: Option<bool>,
    input: impl FnOnce(&DbResource) -> ResourceInput + Send,
) -> AppResult<DbResource> {
    if curated.is_some() && !can_curate(account) {
        return Err(curate_forbidden());
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbResource, AppError, _>(async |conn| {
        let before = changeable_for_update(conn, account, id).await?;
        let has_file = db::resources::last_version_number(conn, before.id).await? > 0;
        let fields = check(&input(&before), has_file)?;
        let mut after = before.clone();
        // Nothing changed: nothing to write, nothing to tell other servers.
        if !unchanged(&before, &fields) {
            after = db::resources::update(conn, before.id, &fields).await?;
            record_change(ctx, conn, Some(&before), &after).await?;
        }
        if let Some(curated) = curated.filter(|c| *c != after.curated) {
            after = db::resources::set_curated(conn, after.id, curated).await?;
        }
        Ok(after)
    })
    .await
}

fn curate_forbidden() -> AppError {
    AppError::forbidden("only staff choose the picks").with_message("resources.curate_forbidden")
}

fn unchanged(r: &DbResource, f: &ResourceFields) -> bool {
    r.title == f.title
        && r.body_markdown == f.body_markdown
        && r.link_url == f.link_url
        && r.disciplines == f.disciplines
        && r.theme == f.theme
        && r.members_only == f.members_only
}

/// Puts the resource among staff's picks, listed first (or takes it out). Staff only.
pub async fn set_curated(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    curated: bool,
) -> AppResult<DbResource> {
    let mut conn = ctx.conn().await?;
    let resource = db::resources::by_id(&mut conn, id)
        .await?
        .filter(|r| can_see(Some(account), r))
        .ok_or_else(AppError::not_found)?;
    if !can_curate(account) {
        return Err(curate_forbidden());
    }
    Ok(db::resources::set_curated(&mut conn, resource.id, curated).await?)
}

/// Deletes a resource (its author or staff); its stored files are removed once committed.
pub async fn delete(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let keys = conn
        .transaction::<Vec<String>, AppError, _>(async |conn| {
            let resource = changeable_for_update(conn, account, id).await?;
            remove_in(ctx, conn, resource).await
        })
        .await?;
    for key in keys {
        ctx.storage.remove(&key).await;
    }
    Ok(())
}

/// Deletes `resource` in the caller's transaction; returns the storage keys to remove once
/// committed.
async fn remove_in(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    resource: DbResource,
) -> AppResult<Vec<String>> {
    let (after, keys) = db::resources::mark_deleted(conn, resource.id).await?;
    record_change(ctx, conn, Some(&resource), &after).await?;
    Ok(keys)
}

/// Hides the resource named by `ap_id` (a moderator's decision), in the caller's
/// transaction: no longer listed nor federated, its page 404 for everyone but its author
/// and the moderators. Returns its author's actor, `None` when it is unknown or gone.
pub async fn hide_by_moderator(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> AppResult<Option<i64>> {
    let Some(resource) = db::resources::by_ap_id(conn, ap_id).await? else {
        return Ok(None);
    };
    let Some(resource) = db::resources::by_id_for_update(conn, resource.id).await? else {
        return Ok(None);
    };
    if resource.deleted_at.is_some() {
        return Ok(None);
    }
    if resource.hidden_at.is_none() {
        let after = db::resources::set_hidden(conn, resource.id, Some(Utc::now())).await?;
        record_change(ctx, conn, Some(&resource), &after).await?;
    }
    Ok(Some(resource.author_actor_id))
}

/// Deletes the resource named by `ap_id` (a moderator's decision), in the caller's
/// transaction. Returns its author's actor and the storage keys to remove once committed.
pub async fn remove_by_moderator(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> AppResult<Option<(i64, Vec<String>)>> {
    let Some(resource) = db::resources::by_ap_id(conn, ap_id).await? else {
        return Ok(None);
    };
    let Some(resource) = db::resources::by_id_for_update(conn, resource.id).await? else {
        return Ok(None);
    };
    let author = resource.author_actor_id;
    if resource.deleted_at.is_some() {
        return Ok(Some((author, Vec::new())));
    }
    let keys = remove_in(ctx, conn, resource).await?;
    Ok(Some((author, keys)))
}
