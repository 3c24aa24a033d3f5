//! Follows: one domain function per action, called by the web page, the JSON API and the inbox
//! alike. Every function writes its rows and records its outbound event in one transaction.

use crate::{
    context::{AppContext, Data},
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        follows::{ACCEPTED, DbFollow, PENDING, REJECTED},
    },
    error::{AppError, AppResult, ErrorKind},
    service::notifications,
    service::outbound::{self, OutboundEvent, new_activity_id},
};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use std::net::IpAddr;
use url::{Host, Url};

/// A reference to a Follow inside Accept, Reject and Undo: its id, or the Follow embedded.
/// (`federation` reads it from an activity's `object`.)
#[derive(Debug, Clone, PartialEq)]
pub enum FollowRef {
    Id(Url),
    Embedded {
        id: Option<Url>,
        actor: Url,
        object: Url,
    },
}

impl FollowRef {
    pub fn id(&self) -> Option<&Url> {
        match self {
            FollowRef::Id(id) => Some(id),
            FollowRef::Embedded { id, .. } => id.as_ref(),
        }
    }
}

/// Where a follow stands, as the API and the pages report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FollowState {
    Pending,
    Accepted,
    Rejected,
}

impl FollowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowState::Pending => PENDING,
            FollowState::Accepted => ACCEPTED,
            FollowState::Rejected => REJECTED,
        }
    }

    pub fn parse(state: &str) -> FollowState {
        match state {
            ACCEPTED => FollowState::Accepted,
            REJECTED => FollowState::Rejected,
            _ => FollowState::Pending,
        }
    }
}

/// What a person typed to name an account: `user@host` (a leading `@` is fine) or an actor URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowTarget {
    Handle { user: String, host: String },
    Url(Url),
}

/// Longest target accepted, in bytes.
pub const MAX_TARGET_LEN: usize = 500;

pub fn parse_target(input: &str) -> AppResult<FollowTarget> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AppError::field("target", "field.required"));
    }
    if input.len() > MAX_TARGET_LEN || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::field("target", "field.target.invalid"));
    }
    if input.contains("://") {
        let url =
            Url::parse(input).map_err(|_| AppError::field("target", "field.target.invalid"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(AppError::field("target", "field.target.invalid"));
        }
        return Ok(FollowTarget::Url(url));
    }
    let handle = input.strip_prefix('@').unwrap_or(input);
    let (user, host) = handle
        .split_once('@')
        .ok_or_else(|| AppError::field("target", "field.target.invalid"))?;
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if user.is_empty() || user.contains(['/', '@', '?', '#']) || !valid_host {
        return Err(AppError::field("target", "field.target.invalid"));
    }
    Ok(FollowTarget::Handle {
        user: user.to_string(),
        host: host.to_ascii_lowercase(),
    })
}

/// Refuses, before any network access, hosts that can only be this machine or a private
/// network — unless `federation.allow_private_addresses` is set. The outbound client's
/// resolver refuses the names that resolve there; this catches literals and says why.
fn check_host_allowed(ctx: &AppContext, host: &str) -> AppResult<()> {
    if ctx.config.federation.allow_private_addresses {
        return Ok(());
    }
    let bare = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') {
            h
        } else {
            host
        }
    });
    let bare = bare.trim_start_matches('[').trim_end_matches(']');
    let lower = bare.to_ascii_lowercase();
    let forbidden = if lower == "localhost" || lower.ends_with(".localhost") {
        true
    } else if let Ok(ip) = lower.parse::<IpAddr>() {
        ctx.network.forbidden_address(ip).is_some()
    } else {
        false
    };
    if forbidden {
        return Err(AppError::field("target", "field.target.forbidden"));
    }
    Ok(())
}

fn url_host_allowed(ctx: &AppContext, url: &Url) -> AppResult<()> {
    match url.host() {
        Some(Host::Ipv4(ip)) => check_host_allowed(ctx, &ip.to_string()),
        Some(Host::Ipv6(ip)) => check_host_allowed(ctx, &ip.to_string()),
        Some(Host::Domain(d)) => check_host_allowed(ctx, d),
        None => Err(AppError::field("target", "field.target.invalid")),
    }
}

/// Turns a failure to find the target into an answer about the `target` field; only an
/// unavailable database stays what it is (503, retry).
fn resolution_error(e: AppError) -> AppError {
    if e.kind == ErrorKind::Unavailable || e.kind == ErrorKind::Validation {
        return e;
    }
    let detail = e.detail.to_ascii_lowercase();
    let refused_address = e.kind == ErrorKind::Forbidden
        || [
            "public address",
            "private network",
            "internal ip",
            "local ip",
            "must have a domain",
        ]
        .iter()
        .any(|needle| detail.contains(needle));
    tracing::info!("follow target not resolved: {}", e.detail);
    if refused_address {
        AppError::field("target", "field.target.forbidden")
    } else {
        AppError::field("target", "field.target.unreachable")
    }
}

/// Finds (and caches) the actor a person named: local accounts from the database, remote
/// ones through WebFinger or their URL, fetched signed by the instance actor.
pub async fn resolve_target(data: &Data, input: &str) -> AppResult<DbActor> {
    let ctx = data.app_data();
    let target = parse_target(input)?;
    let actor = match target {
        FollowTarget::Handle { user, host } => {
            if host == ctx.config.domain().to_ascii_lowercase() {
                let mut conn = ctx.conn().await?;
                db::actors::local_by_username(&mut conn, &user).await?
            } else {
                check_host_allowed(ctx, &host)?;
                Some(
                    ctx.network
                        .webfinger_actor(data, &user, &host)
                        .await
                        .map_err(resolution_error)?,
                )
            }
        }
        FollowTarget::Url(url) => {
            if crate::urls::host_port(&url).as_deref() == Some(data.domain()) {
                let mut conn = ctx.conn().await?;
                db::actors::by_ap_id(&mut conn, url.as_str()).await?
            } else {
                url_host_allowed(ctx, &url)?;
                Some(
                    ctx.network
                        .fetch_actor(data, url)
                        .await
                        .map_err(resolution_error)?,
                )
            }
        }
    };
    match actor {
        Some(actor) if actor.deleted_at.is_none() => Ok(actor),
        _ => Err(AppError::field("target", "field.target.unreachable")),
    }
}

/// An actor we already know, named by handle or URL, without any network access.
async fn known_target(data: &Data, input: &str) -> AppResult<Option<DbActor>> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    Ok(match parse_target(input)? {
        FollowTarget::Url(url) => db::actors::by_ap_id(&mut conn, url.as_str()).await?,
        FollowTarget::Handle { user, host } => {
            if host == ctx.config.domain().to_ascii_lowercase() {
                db::actors::local_by_username(&mut conn, &user).await?
            } else {
                db::actors::remote_by_handle(&mut conn, &host, &user).await?
            }
        }
    })
}

/// How a local actor answers a follow request.
async fn decide(conn: &mut AsyncPgConnection, target: &DbActor) -> AppResult<FollowState> {
    // The instance actor signs fetches and reports; it has no followers.
    if target.kind == "Application" || target.deleted_at.is_some() {
        return Ok(FollowState::Rejected);
    }
    // A workspace's Group has members, never followers.
    if target.kind == "Group"
        && db::workspaces::by_actor_id(conn, target.id)
            .await?
            .is_some()
    {
        return Ok(FollowState::Rejected);
    }
    if let Some(account) = db::accounts::by_actor_id(conn, target.id).await?
        && account.suspended_at.is_some()
    {
        return Ok(FollowState::Rejected);
    }
    if target.manually_approves_followers {
        return Ok(FollowState::Pending);
    }
    Ok(FollowState::Accepted)
}

async fn follower_actor(conn: &mut AsyncPgConnection, account: &DbAccount) -> AppResult<DbActor> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    Ok(db::actors::by_id(conn, account.actor_id).await?)
}

/// Refuses, before any network access, a target on a domain an administrator rejected.
async fn refuse_blocked_target(ctx: &AppContext, input: &str) -> AppResult<()> {
    let host = match parse_target(input)? {
        FollowTarget::Handle { host, .. } => host,
        FollowTarget::Url(url) => match crate::urls::host_port(&url) {
            Some(host) => host,
            None => return Ok(()),
        },
    };
    let mut conn = ctx.conn().await?;
    crate::service::domain_blocks::refuse_rejected(&mut conn, &host, "target").await
}

/// A member asks to follow `target` (`user@host` or an actor URL). Remote accounts stay
/// `pending` until their server answers; local ones answer at once. Asking again while
/// pending or accepted changes nothing; after a Reject it asks again.
pub async fn request_follow(
    data: &Data,
    follower: &DbAccount,
    target: &str,
) -> AppResult<FollowState> {
    let ctx = data.app_data();
    refuse_blocked_target(ctx, target).await?;
    let target = resolve_target(data, target).await?;
    let mut conn = ctx.conn().await?;
    if !target.local {
        // The account may live elsewhere than the host that was typed (WebFinger delegation).
        crate::service::domain_blocks::refuse_rejected(&mut conn, &target.domain, "target").await?;
    }
    if target.blocked_at.is_some() {
        return Err(AppError::field("target", "field.actor.blocked"));
    }
    let follower = follower_actor(&mut conn, follower).await?;
    if follower.id == target.id {
        return Err(AppError::field("target", "field.target.self"));
    }
    conn.transaction::<FollowState, AppError, _>(async |conn| {
        if let Some(existing) = db::follows::get(conn, follower.id, target.id).await?
            && existing.state != REJECTED
        {
            return Ok(FollowState::parse(&existing.state));
        }
        let id = new_activity_id(ctx)?;
        if target.local {
            let state = decide(conn, &target).await?;
            db::follows::upsert(conn, follower.id, target.id, state.as_str(), id.as_str()).await?;
            if state != FollowState::Rejected {
                notifications::events::followed(
                    ctx,
                    conn,
                    follower.id,
                    target.id,
                    state == FollowState::Pending,
                )
                .await?;
            }
            return Ok(state);
        }
        db::follows::upsert(conn, follower.id, target.id, PENDING, id.as_str()).await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::FollowRequested {
                follow_id: id,
                follower: Box::new(follower.clone()),
                target: Box::new(target.clone()),
            },
        )
        .await?;
        Ok(FollowState::Pending)
    })
    .await
}

/// A member stops following `target` (or withdraws a pending request). A remote account is
/// told with `Undo(Follow)`.
pub async fn unfollow(data: &Data, follower: &DbAccount, target: &str) -> AppResult<()> {
    let ctx = data.app_data();
    let target = known_target(data, target)
        .await?
        .ok_or_else(|| AppError::field("target", "field.target.not_following"))?;
    let mut conn = ctx.conn().await?;
    let follower = follower_actor(&mut conn, follower).await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let follow = db::follows::get(conn, follower.id, target.id)
            .await?
            .ok_or_else(|| AppError::field("target", "field.target.not_following"))?;
        db::follows::delete(conn, follow.id).await?;
        notifications::events::unfollowed(conn, follower.id, target.id).await?;
        if target.local || target.deleted_at.is_some() {
            return Ok(());
        }
        outbound::record(
            ctx,
            conn,
            OutboundEvent::Unfollowed {
                follow_id: Url::parse(&follow.activity_ap_id)?,
                follower: Box::new(follower.clone()),
                target: Box::new(target.clone()),
            },
        )
        .await?;
        Ok(())
    })
    .await
}

/// An inbound `Follow` of a local actor: recorded and answered with `Accept` (members, the
/// département page, venues), `Reject` (the instance actor, suspended accounts) or left
/// pending (actors that approve followers by hand). A replayed Follow id is ignored.
pub async fn accept_inbound_follow(
    ctx: &AppContext,
    follower: &DbActor,
    target: &DbActor,
    follow_id: &Url,
) -> AppResult<Option<FollowState>> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<Option<FollowState>, AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, follow_id.as_str()).await? {
            return Ok(None);
        }
        let state = decide(conn, target).await?;
        if state == FollowState::Rejected {
            // Nothing to keep: the relation does not exist.
            if let Some(existing) = db::follows::get(conn, follower.id, target.id).await? {
                db::follows::delete(conn, existing.id).await?;
            }
        } else {
            db::follows::upsert(
                conn,
                follower.id,
                target.id,
                state.as_str(),
                follow_id.as_str(),
            )
            .await?;
            notifications::events::followed(
                ctx,
                conn,
                follower.id,
                target.id,
                state == FollowState::Pending,
            )
            .await?;
        }
        if state == FollowState::Pending || follower.local {
            return Ok(Some(state));
        }
        let (follow_id, follower, target) = (
            follow_id.clone(),
            Box::new(follower.clone()),
            Box::new(target.clone()),
        );
        let event = if state == FollowState::Accepted {
            OutboundEvent::FollowAccepted {
                follow_id,
                follower,
                target,
            }
        } else {
            OutboundEvent::FollowRejected {
                follow_id,
                follower,
                target,
            }
        };
        outbound::record(ctx, conn, event).await?;
        Ok(Some(state))
    })
    .await
}

/// The follow of a local member that `answering` (a remote actor) accepts or rejects.
/// `Ok(None)` when we know no such follow; an error when `answering` is not the followed
/// actor (only they may answer).
pub async fn find_outbound_follow(
    conn: &mut AsyncPgConnection,
    reference: &FollowRef,
    answering: &Url,
) -> AppResult<Option<DbFollow>> {
    let by_id = match reference.id() {
        Some(id) => db::follows::by_activity_id(conn, id.as_str()).await?,
        None => None,
    };
    let follow = match (by_id, reference) {
        (Some(follow), _) => Some(follow),
        (None, FollowRef::Embedded { actor, object, .. }) => {
            if object != answering {
                return Err(AppError::bad_request(
                    "the answered Follow is not addressed to the answering actor",
                ));
            }
            let follower = db::actors::by_ap_id(conn, actor.as_str()).await?;
            let followee = db::actors::by_ap_id(conn, answering.as_str()).await?;
            match (follower, followee) {
                (Some(follower), Some(followee)) if follower.local => {
                    db::follows::get(conn, follower.id, followee.id).await?
                }
                _ => None,
            }
        }
        (None, FollowRef::Id(_)) => None,
    };
    let Some(follow) = follow else {
        return Ok(None);
    };
    let followee = db::actors::by_id(conn, follow.followee_id).await?;
    let follower = db::actors::by_id(conn, follow.follower_id).await?;
    if followee.ap_id != answering.as_str() || !follower.local {
        return Err(AppError::bad_request(
            "only the followed actor may answer a follow",
        ));
    }
    Ok(Some(follow))
}

/// A remote actor answered a local member's Follow (`Accept` or `Reject`). A replayed answer
/// is ignored.
pub async fn follow_answered(
    ctx: &AppContext,
    activity_id: &Url,
    reference: &FollowRef,
    answering: &Url,
    accepted: bool,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        if let Some(follow) = find_outbound_follow(conn, reference, answering).await? {
            let state = if accepted { ACCEPTED } else { REJECTED };
            db::follows::set_state(conn, follow.id, state).await?;
        }
        Ok(())
    })
    .await
}

/// The follow of a local actor that `undoing` (a remote actor) made. `Ok(None)` when we know
/// none; an error when the Follow named is someone else's.
pub async fn find_inbound_follow(
    conn: &mut AsyncPgConnection,
    reference: &FollowRef,
    undoing: &Url,
) -> AppResult<Option<DbFollow>> {
    if let FollowRef::Embedded { actor, .. } = reference
        && actor != undoing
    {
        return Err(AppError::bad_request(
            "an actor may only undo its own Follow",
        ));
    }
    let Some(follower) = db::actors::by_ap_id(conn, undoing.as_str()).await? else {
        return Ok(None);
    };
    if let Some(id) = reference.id()
        && let Some(follow) = db::follows::by_activity_id(conn, id.as_str()).await?
    {
        if follow.follower_id != follower.id {
            return Err(AppError::bad_request(
                "an actor may only undo its own Follow",
            ));
        }
        return Ok(Some(follow));
    }
    if let FollowRef::Embedded { object, .. } = reference
        && let Some(followee) = db::actors::by_ap_id(conn, object.as_str()).await?
    {
        return Ok(db::follows::get(conn, follower.id, followee.id).await?);
    }
    Ok(None)
}

/// A remote actor withdrew its Follow (`Undo(Follow)`). A replayed Undo is ignored.
pub async fn undo_inbound_follow(
    ctx: &AppContext,
    activity_id: &Url,
    reference: &FollowRef,
    undoing: &Url,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        if let Some(follow) = find_inbound_follow(conn, reference, undoing).await? {
            db::follows::delete(conn, follow.id).await?;
            notifications::events::unfollowed(conn, follow.follower_id, follow.followee_id).await?;
        }
        Ok(())
    })
    .await
}

/// A remote actor's profile changed (`Update` of the actor): the cached row is refreshed.
pub async fn update_remote_actor(
    ctx: &AppContext,
    activity_id: &Url,
    new: &db::actors::NewActor,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        db::actors::upsert_remote(conn, new).await?;
        Ok(())
    })
    .await
}

/// A remote actor deleted itself (`Delete` of the actor) or its server answers 410: the
/// row is kept as a marker (so the actor is not fetched again) without its profile, and its
/// follows, both ways, are removed.
pub async fn remove_deleted_actor(conn: &mut AsyncPgConnection, actor_id: i64) -> AppResult<()> {
    conn.transaction::<(), AppError, _>(async |conn| {
        let actor = db::actors::by_id(conn, actor_id).await?;
        if actor.local {
            return Err(AppError::forbidden(
                "a local actor cannot be deleted from elsewhere",
            ));
        }
        db::actors::mark_deleted(conn, actor_id).await?;
        db::follows::delete_all_of(conn, actor_id).await?;
        Ok(())
    })
    .await
}

/// Inbound `Delete` of a remote actor by itself. A replayed Delete is ignored.
pub async fn delete_remote_actor(
    ctx: &AppContext,
    activity_id: &Url,
    actor: &DbActor,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        remove_deleted_actor(conn, actor.id).await
    })
    .await
}

/// Tells the followers of a local actor that its profile changed (`Update` of the actor,
/// public). Call it inside the transaction that saved the profile, after the `actors` row
/// was updated: the activity and its deliveries then commit or roll back with the profile.
pub async fn federate_profile_update(
    conn: &mut AsyncPgConnection,
    ctx: &AppContext,
    actor: &DbActor,
) -> AppResult<()> {
    let actor = db::actors::by_id(conn, actor.id).await?;
    if !actor.local {
        return Err(AppError::internal(
            "federate_profile_update: not a local actor",
        ));
    }
    outbound::record(
        ctx,
        conn,
        OutboundEvent::ProfileUpdated {
            actor: Box::new(actor),
        },
    )
    .await
}

/// One line of "my follows": the account followed and where the request stands.
#[derive(Debug, Clone, Serialize)]
pub struct FollowingEntry {
    pub ap_id: String,
    pub handle: String,
    pub name: String,
    pub url: Option<String>,
    pub state: FollowState,
    pub since: DateTime<Utc>,
}

/// The accounts `account` follows or asked to follow, newest first (at most `limit`).
pub async fn list_following(
    ctx: &AppContext,
    account: &DbAccount,
    limit: i64,
) -> AppResult<Vec<FollowingEntry>> {
    let mut conn = ctx.conn().await?;
    let rows = db::follows::following_of(&mut conn, account.actor_id, limit).await?;
    Ok(rows
        .into_iter()
        .map(|(follow, actor)| FollowingEntry {
            handle: format!("{}@{}", actor.username, actor.domain),
            name: if actor.name.is_empty() {
                actor.username.clone()
            } else {
                actor.name.clone()
            },
            url: actor.url.clone().or_else(|| Some(actor.ap_id.clone())),
            ap_id: actor.ap_id,
            state: FollowState::parse(&follow.state),
            since: follow.created_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            parse_target(" @Bob@Example.org ").expect("handle"),
            FollowTarget::Handle {
                user: "Bob".into(),
                host: "example.org".into()
            }
        );
        assert_eq!(
            parse_target("bob@localhost:8081").expect("port"),
            FollowTarget::Handle {
                user: "bob".into(),
                host: "localhost:8081".into()
            }
        );
        assert!(matches!(
            parse_target("https://example.org/users/bob"),
            Ok(FollowTarget::Url(_))
        ));
        for bad in [
            "",
            "bob",
            "@bob",
            "bob@",
            "bob@exa mple.org",
            "ftp://example.org/u",
            "bob@host/path",
            "javascript:alert(1)",
        ] {
            let err = parse_target(bad).expect_err(bad);
            assert_eq!(err.fields[0].field, "target", "{bad}");
        }
    }

    #[test]
    fn states_round_trip() {
        for s in [
            FollowState::Pending,
            FollowState::Accepted,
            FollowState::Rejected,
        ] {
            assert_eq!(FollowState::parse(s.as_str()), s);
        }
        assert_eq!(
            serde_json::to_value(FollowState::Pending).expect("json"),
            serde_json::json!("pending")
        );
    }
}
