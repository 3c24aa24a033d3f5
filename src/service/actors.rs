//! Local actors: key pairs, and the two system actors every instance has (the instance actor
//! that signs fetches and Flags, and the département page that staff publish as).

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, actors::NewActor},
    error::{AppError, AppResult},
};
use activitypub_federation::http_signatures::{Keypair, generate_actor_keypair};
use chrono::Utc;

/// Username of the instance actor row (served at `/actor`).
pub const INSTANCE_ACTOR_USERNAME: &str = "actor";

/// RSA-2048 key generation takes tens of milliseconds: keep it off the async threads.
pub async fn generate_keypair() -> AppResult<Keypair> {
    tokio::task::spawn_blocking(generate_actor_keypair)
        .await
        .map_err(|e| AppError::internal(format!("join: {e}")))?
        .map_err(|e| AppError::internal(format!("key generation: {e}")))
}

/// The row of a new local actor served under `/users/{username}`.
pub fn new_local_actor(
    ctx: &AppContext,
    username: &str,
    kind: &str,
    name: &str,
    keypair: Keypair,
) -> NewActor {
    let urls = &ctx.urls;
    let now = Utc::now();
    NewActor {
        ap_id: urls.user(username),
        kind: kind.to_string(),
        username: username.to_string(),
        domain: ctx.config.domain(),
        local: true,
        name: name.to_string(),
        summary_html: String::new(),
        icon_url: None,
        url: Some(urls.profile_page(username)),
        inbox_url: urls.user_inbox(username),
        shared_inbox_url: Some(urls.shared_inbox()),
        outbox_url: Some(urls.user_outbox(username)),
        followers_url: Some(urls.user_followers(username)),
        following_url: Some(urls.user_following(username)),
        public_key_pem: keypair.public_key,
        private_key_pem: Some(keypair.private_key),
        manually_approves_followers: false,
        discoverable: true,
        published: now,
        last_refreshed_at: now,
    }
}

/// Creates the instance actor and the page actor when they do not exist yet. Idempotent, and
/// safe when several processes start at once (the loser of the race reads the winner's row).
pub async fn ensure_system_actors(ctx: &AppContext) -> AppResult<(DbActor, DbActor)> {
    let instance = {
        let mut conn = ctx.conn().await?;
        db::actors::by_ap_id(&mut conn, &ctx.urls.instance_actor()).await?
    };
    let instance = match instance {
        Some(actor) => actor,
        None => {
            let keypair = generate_keypair().await?;
            let urls = &ctx.urls;
            let now = Utc::now();
            let new = NewActor {
                ap_id: urls.instance_actor(),
                kind: "Application".into(),
                username: INSTANCE_ACTOR_USERNAME.into(),
                domain: ctx.config.domain(),
                local: true,
                name: ctx.config.instance.name.clone(),
                summary_html: String::new(),
                icon_url: None,
                url: Some(urls.absolute("/")),
                inbox_url: urls.instance_actor_inbox(),
                shared_inbox_url: Some(urls.shared_inbox()),
                outbox_url: Some(urls.instance_actor_outbox()),
                followers_url: None,
                following_url: None,
                public_key_pem: keypair.public_key,
                private_key_pem: Some(keypair.private_key),
                manually_approves_followers: true,
                discoverable: false,
                published: now,
                last_refreshed_at: now,
            };
            insert_or_read(ctx, &new).await?
        }
    };
    let page_username = ctx.config.instance.page_actor.clone();
    let page = {
        let mut conn = ctx.conn().await?;
        db::actors::by_ap_id(&mut conn, &ctx.urls.user(&page_username)).await?
    };
    let page = match page {
        Some(actor) => actor,
        None => {
            let keypair = generate_keypair().await?;
            let new = new_local_actor(ctx, &page_username, "Organization", "Département", keypair);
            insert_or_read(ctx, &new).await?
        }
    };
    Ok((instance, page))
}

async fn insert_or_read(ctx: &AppContext, new: &NewActor) -> AppResult<DbActor> {
    let mut conn = ctx.conn().await?;
    match db::actors::insert(&mut conn, new).await {
        Ok(actor) => Ok(actor),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => db::actors::by_ap_id(&mut conn, &new.ap_id)
            .await?
            .ok_or_else(|| AppError::internal("actor vanished after a unique violation")),
        Err(e) => Err(e.into()),
    }
}
