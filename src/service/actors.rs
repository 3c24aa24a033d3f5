//! Local actors: key pairs, and the system actors every instance has (the instance actor
//! that signs fetches and Flags, the département page that staff publish as, and the
//! announcement channel that boosts every new public announcement).

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, actors::NewActor},
    error::{AppError, AppResult},
    i18n::Lang,
    sanitize::SafeHtml,
    service::outbound::{self, OutboundEvent},
};
use activitypub_federation::http_signatures::{Keypair, generate_actor_keypair};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// Username of the instance actor row (served at `/actor`).
pub const INSTANCE_ACTOR_USERNAME: &str = "actor";

/// Username of the announcement channel (`/users/annonces`, `annonces@host`): a `Service`
/// that boosts every new public announcement, so one follow from Mastodon brings them all.
/// Reserved for accounts (see `service::accounts`).
pub const CHANNEL_USERNAME: &str = "annonces";

/// The actors [`ensure_system_actors`] guarantees.
#[derive(Debug, Clone)]
pub struct SystemActors {
    pub instance: DbActor,
    pub page: DbActor,
    pub channel: DbActor,
}

/// Whether `actor` is this instance's announcement channel.
pub fn is_channel(ctx: &AppContext, actor: &DbActor) -> bool {
    actor.local && actor.ap_id == ctx.urls.user(CHANNEL_USERNAME)
}

/// `@annonces@host`: what a fediverse user types to follow the channel.
pub fn channel_handle(ctx: &AppContext) -> String {
    format!("@{CHANNEL_USERNAME}@{}", ctx.config.domain())
}

/// The announcement channel's row, when it exists (it does once the instance has started).
pub async fn channel(ctx: &AppContext, conn: &mut AsyncPgConnection) -> AppResult<Option<DbActor>> {
    Ok(db::actors::by_ap_id(conn, &ctx.urls.user(CHANNEL_USERNAME)).await?)
}

/// The channel's display name and its HTML summary, in the instance's language.
fn channel_profile(ctx: &AppContext) -> (String, String) {
    let lang = Lang::parse(&ctx.config.instance.language).unwrap_or_default();
    let name = format!("{} {}", lang.t("channel.name_of"), ctx.config.instance.name);
    (name, channel_summary(ctx, lang).into_string())
}

/// What the channel is, in `lang`, with a link to every announcement.
pub fn channel_summary(ctx: &AppContext, lang: Lang) -> SafeHtml {
    // The address only as a link target: `instance move-url` rewrites ids in attributes.
    let summary = format!(
        "{} [{}]({})",
        lang.t("channel.summary"),
        lang.t("channel.all"),
        ctx.urls.absolute("/annonces")
    );
    SafeHtml::from_markdown(&summary)
}

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

/// Creates the instance actor, the page actor and the announcement channel when they do not
/// exist yet. Idempotent, and safe when several processes start at once (the loser of the
/// race reads the winner's row).
pub async fn ensure_system_actors(ctx: &AppContext) -> AppResult<SystemActors> {
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
    let channel = {
        let mut conn = ctx.conn().await?;
        channel(ctx, &mut conn).await?
    };
    let channel = match channel {
        Some(actor) => refresh_channel(ctx, actor).await?,
        None => {
            let keypair = generate_keypair().await?;
            let (name, summary_html) = channel_profile(ctx);
            let mut new = new_local_actor(ctx, CHANNEL_USERNAME, "Service", &name, keypair);
            new.summary_html = summary_html;
            insert_or_read(ctx, &new).await?
        }
    };
    Ok(SystemActors {
        instance,
        page,
        channel,
    })
}

/// The channel's name and summary follow `instance.name` and `instance.language`: when they
/// changed since the last start, the row is updated and its followers get `Update(Service)`.
async fn refresh_channel(ctx: &AppContext, channel: DbActor) -> AppResult<DbActor> {
    let (name, summary_html) = channel_profile(ctx);
    if channel.name == name && channel.summary_html == summary_html {
        return Ok(channel);
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbActor, AppError, _>(async |conn| {
        if db::actors::set_name_and_summary_if_changed(conn, channel.id, &name, &summary_html)
            .await?
        {
            let actor = db::actors::by_id(conn, channel.id).await?;
            outbound::record(
                ctx,
                conn,
                OutboundEvent::ProfileUpdated {
                    actor: Box::new(actor),
                },
            )
            .await?;
        }
        Ok(db::actors::by_id(conn, channel.id).await?)
    })
    .await
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
