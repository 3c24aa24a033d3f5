//! Invitations (by username, e-mail or fediverse handle) and join requests.
//! See the module documentation of `service::workspaces`.
//!
//! - A local member invited by username (or by the address of their account) gets a pending
//!   invitation and a notification; they accept or decline it.
//! - An address without an account gets a mail with a link (`/espaces/rejoindre/{secret}`,
//!   only the secret's SHA-256 is stored): whoever opens it logged in, or signs up through
//!   it, joins with that account.
//! - A fediverse handle (`user@host`, `@user@host`) is looked up by WebFinger; the remote
//!   actor gets an `Invite` (recorded as `OutboundEvent::WorkspaceInvited`) and joins when its
//!   `Accept` arrives ([`answer`]).
//! - Anyone may ask to join a listed workspace ([`request_to_join`]); a coordinator answers.

use super::{Access, Role, access_as, members::notify_coordinators};
use crate::{
    context::{AppContext, Data},
    db::{
        self,
        actors::DbActor,
        schema::{workspace_invitations, workspace_join_requests, workspace_members},
        workspaces::{DbWorkspace, DbWorkspaceInvitation, DbWorkspaceJoinRequest},
    },
    error::{AppError, AppResult, ErrorKind},
    service::{
        accounts::email_looks_valid,
        follows,
        mail::{self, MailBody, MailCategory, OutgoingMail},
        notifications::{self, NotificationKind, WorkspaceRefs},
        outbound::{self, OutboundEvent, new_activity_id},
        tokens,
    },
};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use url::Url;
use uuid::Uuid;

/// Longest invitation or join-request message, in characters (the column's limit).
pub const MESSAGE_MAX: usize = 2000;

/// The page the mailed link of an e-mail invitation opens (the secret follows).
pub const JOIN_LINK_PATH: &str = "/espaces/rejoindre/";

pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";
pub const DECLINED: &str = "declined";
pub const WITHDRAWN: &str = "withdrawn";

/// A new invitation and, for an e-mail invitation, the secret of its link (mailed; the
/// database keeps only its hash).
#[derive(Debug, Clone)]
pub struct Invited {
    pub invitation: DbWorkspaceInvitation,
    pub secret: Option<String>,
}

/// Who `target` names.
enum Invitee {
    /// A local member's actor.
    Local(DbActor),
    /// A remote actor found by WebFinger.
    Remote(DbActor),
    /// An address with no account here.
    Email(String),
}

fn conflict(detail: &str) -> AppError {
    AppError::new(ErrorKind::Conflict, detail)
}

fn check_message(message: &str) -> AppResult<String> {
    let message = message.trim();
    if message.chars().count() > MESSAGE_MAX
        || message
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::field(
            "message",
            "workspace_members.field.message",
        ));
    }
    Ok(message.to_string())
}

/// The role an invitation may give: member or coordinator (ownership is transferred, never
/// given by invitation).
fn invitation_role(role: Role) -> AppResult<Role> {
    match role {
        Role::Owner => Err(AppError::field("role", "workspace_members.field.role")),
        r => Ok(r),
    }
}

/// Finds who `target` names: `@name` / `name` (a local username), an address (the account
/// that has it, else an e-mail invitation), `@user@host` (always a fediverse handle) or
/// `user@host` (a fediverse handle when WebFinger finds an actor there, else an address).
async fn resolve(data: &Data, target: &str) -> AppResult<Invitee> {
    let ctx = data.app_data();
    let target = target.trim();
    if target.is_empty() {
        return Err(AppError::field("target", "field.required"));
    }
    if target.len() > follows::MAX_TARGET_LEN
        || target.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::field("target", "workspace_members.field.target"));
    }
    let forced_handle = target.starts_with('@');
    let bare = target.strip_prefix('@').unwrap_or(target);
    let Some((user, host)) = bare.split_once('@') else {
        // A local username.
        let mut conn = ctx.conn().await?;
        return match db::actors::local_by_username(&mut conn, bare).await? {
            Some(actor) if actor.deleted_at.is_none() && actor.kind != "Application" => {
                local_member(&mut conn, actor).await
            }
            _ => Err(AppError::field(
                "target",
                "workspace_members.field.unknown_user",
            )),
        };
    };
    let local_domain = ctx.config.domain().to_ascii_lowercase();
    if host.to_ascii_lowercase() == local_domain {
        let mut conn = ctx.conn().await?;
        return match db::actors::local_by_username(&mut conn, user).await? {
            Some(actor) if actor.deleted_at.is_none() && actor.kind != "Application" => {
                local_member(&mut conn, actor).await
            }
            _ => Err(AppError::field(
                "target",
                "workspace_members.field.unknown_user",
            )),
        };
    }
    if !forced_handle {
        // The address of an account here: that member.
        let mut conn = ctx.conn().await?;
        if let Some(account) = db::accounts::by_email(&mut conn, bare).await? {
            let actor = db::actors::by_id(&mut conn, account.actor_id).await?;
            return local_member(&mut conn, actor).await;
        }
    }
    {
        let mut conn = ctx.conn().await?;
        crate::service::domain_blocks::refuse_rejected(
            &mut conn,
            &host.to_ascii_lowercase(),
            "target",
        )
        .await?;
    }
    match follows::resolve_target(data, &format!("{user}@{host}")).await {
        Ok(actor) if actor.local => {
            let mut conn = ctx.conn().await?;
            local_member(&mut conn, actor).await
        }
        Ok(actor) if actor.blocked_at.is_some() => {
            Err(AppError::field("target", "field.actor.blocked"))
        }
        Ok(actor) => Ok(Invitee::Remote(actor)),
        Err(e) if e.kind == ErrorKind::Unavailable => Err(e),
        Err(_) if !forced_handle && email_looks_valid(bare) => Ok(Invitee::Email(bare.to_string())),
        Err(_) => Err(AppError::field(
            "target",
            "workspace_members.field.unknown_handle",
        )),
    }
}

/// A local actor as an invitee: a member with an account that is not suspended.
async fn local_member(conn: &mut AsyncPgConnection, actor: DbActor) -> AppResult<Invitee> {
    match db::accounts::by_actor_id(conn, actor.id).await? {
        Some(account) if account.suspended_at.is_none() => Ok(Invitee::Local(actor)),
        _ => Err(AppError::field(
            "target",
            "workspace_members.field.unknown_user",
        )),
    }
}

async fn pending_for_actor(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        workspace_invitations::table
            .filter(workspace_invitations::workspace_id.eq(workspace_id))
            .filter(workspace_invitations::actor_id.eq(actor_id))
            .filter(workspace_invitations::status.eq(PENDING))
            .filter(workspace_invitations::expires_at.gt(Utc::now())),
    ))
    .get_result(conn)
    .await?)
}

/// Pending invitations past their date become `expired` (so a new one can be sent).
async fn expire_old(conn: &mut AsyncPgConnection, workspace_id: Uuid) -> AppResult<()> {
    diesel::update(
        workspace_invitations::table
            .filter(workspace_invitations::workspace_id.eq(workspace_id))
            .filter(workspace_invitations::status.eq(PENDING))
            .filter(workspace_invitations::expires_at.le(Utc::now())),
    )
    .set(workspace_invitations::status.eq("expired"))
    .execute(conn)
    .await?;
    Ok(())
}

/// A coordinator (or the owner) of a workspace of ours invites `target` (a local username,
/// an e-mail address or a fediverse handle) with `role` (member or coordinator). 409 when
/// the person is already a member or already invited; 422 naming `target` when nobody is
/// found; 403 below coordinator; 409 when archived.
pub async fn invite(
    data: &Data,
    access: &Access,
    target: &str,
    role: Role,
    message: &str,
) -> AppResult<Invited> {
    let ctx = data.app_data();
    access.require(Role::Coordinator)?;
    access.require_writable()?;
    if !access.workspace.local {
        return Err(conflict(
            "this workspace is hosted on another server: invitations are sent from there",
        ));
    }
    let role = invitation_role(role)?;
    let message = check_message(message)?;
    let invitee = resolve(data, target).await?;
    let workspace = access.workspace.clone();
    let inviter_id = access.member.actor_id;
    let mut conn = ctx.conn().await?;
    conn.transaction::<Invited, AppError, _>(async |conn| {
        // The inviter may have been removed meanwhile.
        let access = access_as(conn, workspace.id, inviter_id).await?;
        access.require(Role::Coordinator)?;
        expire_old(conn, workspace.id).await?;
        match invitee {
            Invitee::Local(actor) | Invitee::Remote(actor) => {
                if db::workspaces::member(conn, workspace.id, actor.id)
                    .await?
                    .is_some()
                {
                    return Err(conflict(&format!(
                        "{} is already a member of this workspace",
                        handle_of(ctx, &actor)
                    ))
                    .with_message("workspace_members.error.already_in"));
                }
                if pending_for_actor(conn, workspace.id, actor.id).await? {
                    return Err(conflict(&format!(
                        "{} already has a pending invitation to this workspace",
                        handle_of(ctx, &actor)
                    ))
                    .with_message("workspace_members.error.already_invited"));
                }
                let ap_id = if actor.local {
                    None
                } else {
                    Some(new_activity_id(ctx)?.to_string())
                };
                let invitation: DbWorkspaceInvitation =
                    diesel::insert_into(workspace_invitations::table)
                        .values((
                            workspace_invitations::workspace_id.eq(workspace.id),
                            workspace_invitations::invited_by_actor_id.eq(inviter_id),
                            workspace_invitations::actor_id.eq(actor.id),
                            workspace_invitations::role.eq(role.as_str()),
                            workspace_invitations::message.eq(&message),
                            workspace_invitations::ap_id.eq(&ap_id),
                        ))
                        .returning(DbWorkspaceInvitation::as_returning())
                        .get_result(conn)
                        .await?;
                if actor.local {
                    if let Some(account) = db::accounts::by_actor_id(conn, actor.id).await? {
                        notify(
                            ctx,
                            conn,
                            account.id,
                            NotificationKind::WorkspaceInvitation,
                            inviter_id,
                            WorkspaceRefs {
                                workspace_id: Some(workspace.id),
                                invitation_id: Some(invitation.id),
                                ..Default::default()
                            },
                        )
                        .await?;
                    }
                } else {
                    outbound::record(
                        ctx,
                        conn,
                        OutboundEvent::WorkspaceInvited {
                            workspace: Box::new(workspace.clone()),
                            invitation: Box::new(invitation.clone()),
                            invitee: Box::new(actor.clone()),
                        },
                    )
                    .await?;
                }
                Ok(Invited {
                    invitation,
                    secret: None,
                })
            }
            Invitee::Email(email) => {
                let already: bool = diesel::select(diesel::dsl::exists(
                    workspace_invitations::table
                        .filter(workspace_invitations::workspace_id.eq(workspace.id))
                        .filter(workspace_invitations::status.eq(PENDING))
                        .filter(
                            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                                .bind::<diesel::sql_types::Text, _>(&email)
                                .sql(")"),
                        ),
                ))
                .get_result(conn)
                .await?;
                if already {
                    return Err(conflict(&format!(
                        "{email} already has a pending invitation to this workspace"
                    ))
                    .with_message("workspace_members.error.already_invited"));
                }
                let secret = tokens::new_secret();
                let invitation: DbWorkspaceInvitation =
                    diesel::insert_into(workspace_invitations::table)
                        .values((
                            workspace_invitations::workspace_id.eq(workspace.id),
                            workspace_invitations::invited_by_actor_id.eq(inviter_id),
                            workspace_invitations::email.eq(&email),
                            workspace_invitations::token_hash.eq(tokens::hash_token(&secret)),
                            workspace_invitations::role.eq(role.as_str()),
                            workspace_invitations::message.eq(&message),
                        ))
                        .returning(DbWorkspaceInvitation::as_returning())
                        .get_result(conn)
                        .await?;
                let inviter = db::actors::by_id(conn, inviter_id).await?;
                mail::enqueue(
                    conn,
                    ctx,
                    invitation_mail(ctx, &workspace, &inviter, &email, &message, &secret),
                )
                .await?;
                Ok(Invited {
                    invitation,
                    secret: Some(secret),
                })
            }
        }
    })
    .await
}

/// `user@host` of an actor (ours: `user@our-domain`).
pub fn handle_of(ctx: &AppContext, actor: &DbActor) -> String {
    if actor.local {
        format!("{}@{}", actor.username, ctx.config.domain())
    } else {
        format!("{}@{}", actor.username, actor.domain)
    }
}

/// The mail of an e-mail invitation, in the instance's language.
fn invitation_mail(
    ctx: &AppContext,
    workspace: &DbWorkspace,
    inviter: &DbActor,
    to: &str,
    message: &str,
    secret: &str,
) -> OutgoingMail {
    let lang = ctx.lang_or_default(None);
    let instance = &ctx.config.instance.name;
    let inviter_name = if inviter.name.trim().is_empty() {
        inviter.username.clone()
    } else {
        inviter.name.clone()
    };
    let fill = |key: &str| {
        lang.t(key)
            .replace("{instance}", instance)
            .replace("{inviter}", &inviter_name)
            .replace("{workspace}", &workspace.name)
    };
    let url = ctx.urls.absolute(&format!("{JOIN_LINK_PATH}{secret}"));
    let mut paragraphs = vec![fill("workspace_members.mail.text")];
    if !message.is_empty() {
        paragraphs.push(format!("« {message} »"));
    }
    paragraphs.push(fill("workspace_members.mail.how"));
    let body = MailBody {
        greeting: lang.t("moderation.outcome_mail.greeting").to_string(),
        paragraphs,
        action: Some((lang.t("workspace_members.mail.action").to_string(), url)),
        footer: vec![fill("workspace_members.mail.ignore")],
    };
    let (text, html) = body.render(lang, instance);
    OutgoingMail {
        account_id: None,
        to: to.to_string(),
        lang,
        category: MailCategory::WorkspaceInvitation,
        subject: fill("workspace_members.mail.subject"),
        text,
        html,
        unsubscribe_url: None,
    }
}

/// Records a notification for a local member.
pub(super) async fn notify(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    account_id: i64,
    kind: NotificationKind,
    actor_id: i64,
    workspace: WorkspaceRefs,
) -> AppResult<()> {
    notifications::record(
        ctx,
        conn,
        notifications::Event {
            account_id,
            kind,
            actor_id: Some(actor_id),
            post_id: None,
            comment_id: None,
            object_ap_id: None,
            alert_id: None,
            dedupe_key: None,
            report_id: None,
            moderation_action_id: None,
            loan_request_id: None,
            venue_id: None,
            workspace,
        },
    )
    .await?;
    Ok(())
}

async fn invitation_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> AppResult<Option<DbWorkspaceInvitation>> {
    Ok(workspace_invitations::table
        .find(id)
        .for_update()
        .select(DbWorkspaceInvitation::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// 409 unless pending, 410 when past its date.
fn check_answerable(invitation: &DbWorkspaceInvitation) -> AppResult<()> {
    if invitation.status != PENDING {
        return Err(conflict(&format!(
            "this invitation was already answered or withdrawn (it is {})",
            invitation.status
        ))
        .with_message("workspace_members.error.answered"));
    }
    if invitation.expires_at <= Utc::now() {
        return Err(AppError::new(
            ErrorKind::Gone,
            "this invitation has expired: ask the workspace's coordinators for a new one",
        )
        .with_message("workspace_members.error.expired"));
    }
    Ok(())
}

/// Adds `actor_id` with `role`, unless already a member.
async fn add_member(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
    role: &str,
) -> AppResult<bool> {
    let added = diesel::insert_into(workspace_members::table)
        .values((
            workspace_members::workspace_id.eq(workspace_id),
            workspace_members::actor_id.eq(actor_id),
            workspace_members::role.eq(role),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(added > 0)
}

async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: &str,
) -> AppResult<DbWorkspaceInvitation> {
    Ok(diesel::update(workspace_invitations::table.find(id))
        .set((
            workspace_invitations::status.eq(status),
            workspace_invitations::answered_at.eq(Utc::now()),
        ))
        .returning(DbWorkspaceInvitation::as_returning())
        .get_result(conn)
        .await?)
}

/// Answers invitation `invitation_id` as `actor`: a local member from the page or the API,
/// or a remote invitee whose `Accept`/`Reject` of our `Invite` arrived. For an invitation
/// of a remote workspace (our member invited elsewhere) it also records
/// `OutboundEvent::WorkspaceInvitationAnswered`. 404 unless `actor` is the invitee.
pub async fn answer(
    ctx: &AppContext,
    invitation_id: Uuid,
    actor: &DbActor,
    accept: bool,
) -> AppResult<DbWorkspaceInvitation> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceInvitation, AppError, _>(async |conn| {
        let invitation = invitation_for_update(conn, invitation_id)
            .await?
            .filter(|i| i.actor_id == Some(actor.id))
            .ok_or_else(AppError::not_found)?;
        check_answerable(&invitation)?;
        let workspace = db::workspaces::by_id(conn, invitation.workspace_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        if accept && workspace.local && workspace.is_archived() {
            return Err(conflict(
                "this workspace is archived: it takes no new members",
            ));
        }
        let status = if accept { ACCEPTED } else { DECLINED };
        let answered = set_status(conn, invitation.id, status).await?;
        if accept {
            add_member(conn, workspace.id, actor.id, &invitation.role).await?;
        }
        if workspace.local {
            if accept {
                notify_coordinators(
                    ctx,
                    conn,
                    &workspace,
                    NotificationKind::WorkspaceMembership,
                    actor.id,
                    WorkspaceRefs {
                        workspace_id: Some(workspace.id),
                        invitation_id: Some(invitation.id),
                        ..Default::default()
                    },
                )
                .await?;
            }
        } else if actor.local {
            outbound::record(
                ctx,
                conn,
                OutboundEvent::WorkspaceInvitationAnswered {
                    workspace: Box::new(workspace.clone()),
                    invitation: Box::new(answered.clone()),
                    member: Box::new(actor.clone()),
                    accepted: accept,
                },
            )
            .await?;
        }
        Ok(answered)
    })
    .await
}

/// A coordinator withdraws a pending invitation of their workspace (404 when it is not one
/// of this workspace; 409 when already answered).
pub async fn withdraw(
    ctx: &AppContext,
    access: &Access,
    invitation_id: Uuid,
) -> AppResult<DbWorkspaceInvitation> {
    access.require(Role::Coordinator)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceInvitation, AppError, _>(async |conn| {
        let invitation = invitation_for_update(conn, invitation_id)
            .await?
            .filter(|i| i.workspace_id == access.workspace.id)
            .ok_or_else(AppError::not_found)?;
        if invitation.status != PENDING {
            return Err(conflict("this invitation is no longer pending")
                .with_message("workspace_members.error.answered"));
        }
        let withdrawn = set_status(conn, invitation.id, WITHDRAWN).await?;
        // A remote invitee's server holds the invitation too: it is told (`Undo(Invite)`).
        if let Some(invitee_id) = withdrawn.actor_id.filter(|_| withdrawn.ap_id.is_some()) {
            let invitee = db::actors::by_id(conn, invitee_id).await?;
            if !invitee.local {
                outbound::record(
                    ctx,
                    conn,
                    OutboundEvent::WorkspaceInvitationWithdrawn {
                        workspace: Box::new(access.workspace.clone()),
                        invitation: Box::new(withdrawn.clone()),
                        invitee: Box::new(invitee),
                    },
                )
                .await?;
            }
        }
        Ok(withdrawn)
    })
    .await
}

/// The remote `Group` that invited one of our members withdrew its `Invite` (`Undo`): the
/// invitation, when it is that group's and still pending, is marked withdrawn; anything
/// else changes nothing.
pub async fn withdrawn_by_group(
    ctx: &AppContext,
    group: &DbActor,
    invite_id: &str,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let Some(invitation) = db::workspace_federation::invitation_by_ap_id(conn, invite_id)
            .await?
            .filter(|i| i.invited_by_actor_id == group.id && i.status == PENDING)
        else {
            return Ok(());
        };
        set_status(conn, invitation.id, WITHDRAWN).await?;
        Ok(())
    })
    .await
}

/// The invitation of a mailed link and its workspace: 404 when unknown, 409 when answered,
/// 410 when expired.
pub async fn by_token(
    ctx: &AppContext,
    secret: &str,
) -> AppResult<(DbWorkspaceInvitation, DbWorkspace)> {
    if !tokens::is_well_formed_secret(secret) {
        return Err(AppError::not_found());
    }
    let mut conn = ctx.conn().await?;
    let invitation: DbWorkspaceInvitation = workspace_invitations::table
        .filter(workspace_invitations::token_hash.eq(tokens::hash_token(secret)))
        .select(DbWorkspaceInvitation::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(AppError::not_found)?;
    check_answerable(&invitation)?;
    let workspace = db::workspaces::by_id(&mut conn, invitation.workspace_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((invitation, workspace))
}

/// Accepts the e-mail invitation of link `secret` for the member whose actor is `actor`
/// (whatever their address: the link was the proof). Already a member: the invitation is
/// used all the same.
pub async fn accept_by_token(
    ctx: &AppContext,
    secret: &str,
    actor: &DbActor,
) -> AppResult<(DbWorkspaceInvitation, DbWorkspace)> {
    let (found, workspace) = by_token(ctx, secret).await?;
    if workspace.is_archived() {
        return Err(conflict(
            "this workspace is archived: it takes no new members",
        ));
    }
    let mut conn = ctx.conn().await?;
    let invitation = conn
        .transaction::<DbWorkspaceInvitation, AppError, _>(async |conn| {
            let invitation = invitation_for_update(conn, found.id)
                .await?
                .ok_or_else(AppError::not_found)?;
            check_answerable(&invitation)?;
            let answered = set_status(conn, invitation.id, ACCEPTED).await?;
            if add_member(conn, workspace.id, actor.id, &invitation.role).await? {
                notify_coordinators(
                    ctx,
                    conn,
                    &workspace,
                    NotificationKind::WorkspaceMembership,
                    actor.id,
                    WorkspaceRefs {
                        workspace_id: Some(workspace.id),
                        invitation_id: Some(invitation.id),
                        ..Default::default()
                    },
                )
                .await?;
            }
            Ok(answered)
        })
        .await?;
    Ok((invitation, workspace))
}

/// One pending invitation addressed to a member, with its workspace and who sent it.
#[derive(Debug, Clone)]
pub struct ReceivedInvitation {
    pub invitation: DbWorkspaceInvitation,
    pub workspace: DbWorkspace,
    pub invited_by: DbActor,
}

/// The pending, unexpired invitations of `actor_id` (workspaces of ours and remote ones).
pub async fn received(ctx: &AppContext, actor_id: i64) -> AppResult<Vec<ReceivedInvitation>> {
    let mut conn = ctx.conn().await?;
    let rows: Vec<DbWorkspaceInvitation> = workspace_invitations::table
        .filter(workspace_invitations::actor_id.eq(actor_id))
        .filter(workspace_invitations::status.eq(PENDING))
        .filter(workspace_invitations::expires_at.gt(Utc::now()))
        .order(workspace_invitations::created_at.desc())
        .select(DbWorkspaceInvitation::as_select())
        .load(&mut conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for invitation in rows {
        let Some(workspace) = db::workspaces::by_id(&mut conn, invitation.workspace_id).await?
        else {
            continue;
        };
        let invited_by = db::actors::by_id(&mut conn, invitation.invited_by_actor_id).await?;
        out.push(ReceivedInvitation {
            invitation,
            workspace,
            invited_by,
        });
    }
    Ok(out)
}

/// One invitation addressed to `actor_id` (any state), with its workspace: 404 otherwise.
pub async fn received_one(
    ctx: &AppContext,
    actor_id: i64,
    invitation_id: Uuid,
) -> AppResult<ReceivedInvitation> {
    let mut conn = ctx.conn().await?;
    let invitation: DbWorkspaceInvitation = workspace_invitations::table
        .find(invitation_id)
        .filter(workspace_invitations::actor_id.eq(actor_id))
        .select(DbWorkspaceInvitation::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or_else(AppError::not_found)?;
    let workspace = db::workspaces::by_id(&mut conn, invitation.workspace_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let invited_by = db::actors::by_id(&mut conn, invitation.invited_by_actor_id).await?;
    Ok(ReceivedInvitation {
        invitation,
        workspace,
        invited_by,
    })
}

/// A pending invitation of a workspace, with its invitee's actor when it names one.
#[derive(Debug, Clone)]
pub struct SentInvitation {
    pub invitation: DbWorkspaceInvitation,
    pub invitee: Option<DbActor>,
}

/// The pending invitations of a workspace (coordinators and the owner).
pub async fn pending(ctx: &AppContext, access: &Access) -> AppResult<Vec<SentInvitation>> {
    access.require(Role::Coordinator)?;
    let mut conn = ctx.conn().await?;
    let rows: Vec<DbWorkspaceInvitation> = workspace_invitations::table
        .filter(workspace_invitations::workspace_id.eq(access.workspace.id))
        .filter(workspace_invitations::status.eq(PENDING))
        .filter(workspace_invitations::expires_at.gt(Utc::now()))
        .order(workspace_invitations::created_at)
        .select(DbWorkspaceInvitation::as_select())
        .load(&mut conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for invitation in rows {
        let invitee = match invitation.actor_id {
            Some(id) => Some(db::actors::by_id(&mut conn, id).await?),
            None => None,
        };
        out.push(SentInvitation {
            invitation,
            invitee,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Join requests

/// `actor` (local, or remote whose `Join` arrived with id `ap_id`) asks to join listed
/// workspace `workspace_id`; its coordinators are notified. 404 unless the workspace is
/// ours and listed.
pub async fn request_to_join(
    ctx: &AppContext,
    workspace_id: Uuid,
    actor: &DbActor,
    message: &str,
    ap_id: Option<&Url>,
) -> AppResult<DbWorkspaceJoinRequest> {
    let message = check_message(message)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceJoinRequest, AppError, _>(async |conn| {
        let workspace = db::workspaces::by_id(conn, workspace_id)
            .await?
            .filter(|w| w.local && w.listed)
            .ok_or_else(AppError::not_found)?;
        if workspace.is_archived() {
            return Err(conflict(
                "this workspace is archived: it takes no new members",
            ));
        }
        if db::workspaces::member(conn, workspace.id, actor.id)
            .await?
            .is_some()
        {
            return Err(conflict("you are already a member of this workspace")
                .with_message("workspace_members.error.already_member"));
        }
        let already: bool = diesel::select(diesel::dsl::exists(
            workspace_join_requests::table
                .filter(workspace_join_requests::workspace_id.eq(workspace.id))
                .filter(workspace_join_requests::actor_id.eq(actor.id))
                .filter(workspace_join_requests::status.eq(PENDING)),
        ))
        .get_result(conn)
        .await?;
        if already {
            return Err(conflict(
                "you already asked to join this workspace: its coordinators will answer",
            )
            .with_message("workspace_members.error.already_asked"));
        }
        let request: DbWorkspaceJoinRequest = diesel::insert_into(workspace_join_requests::table)
            .values((
                workspace_join_requests::workspace_id.eq(workspace.id),
                workspace_join_requests::actor_id.eq(actor.id),
                workspace_join_requests::message.eq(&message),
                workspace_join_requests::ap_id.eq(ap_id.map(|u| u.to_string())),
            ))
            .returning(DbWorkspaceJoinRequest::as_returning())
            .get_result(conn)
            .await?;
        notify_coordinators(
            ctx,
            conn,
            &workspace,
            NotificationKind::WorkspaceJoinRequest,
            actor.id,
            WorkspaceRefs {
                workspace_id: Some(workspace.id),
                ..Default::default()
            },
        )
        .await?;
        Ok(request)
    })
    .await
}

/// A coordinator accepts or declines join request `request_id` of their workspace. Accepted,
/// the requester becomes a member; a remote one learns it by the `Update` of the `Group`
/// (`OutboundEvent::WorkspaceUpdated`) that now reaches them, a local one by a notification.
pub async fn answer_join_request(
    ctx: &AppContext,
    access: &Access,
    request_id: Uuid,
    accept: bool,
) -> AppResult<DbWorkspaceJoinRequest> {
    access.require(Role::Coordinator)?;
    access.require_writable()?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspaceJoinRequest, AppError, _>(async |conn| {
        let request: DbWorkspaceJoinRequest = workspace_join_requests::table
            .find(request_id)
            .filter(workspace_join_requests::workspace_id.eq(access.workspace.id))
            .for_update()
            .select(DbWorkspaceJoinRequest::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(AppError::not_found)?;
        if request.status != PENDING {
            return Err(conflict("this request was already answered")
                .with_message("workspace_members.error.answered"));
        }
        let answered: DbWorkspaceJoinRequest =
            diesel::update(workspace_join_requests::table.find(request.id))
                .set((
                    workspace_join_requests::status.eq(if accept { ACCEPTED } else { DECLINED }),
                    workspace_join_requests::answered_at.eq(Utc::now()),
                    workspace_join_requests::answered_by_actor_id.eq(access.member.actor_id),
                ))
                .returning(DbWorkspaceJoinRequest::as_returning())
                .get_result(conn)
                .await?;
        let requester = db::actors::by_id(conn, request.actor_id).await?;
        if accept {
            add_member(
                conn,
                access.workspace.id,
                requester.id,
                Role::Member.as_str(),
            )
            .await?;
            if requester.local {
                if let Some(account) = db::accounts::by_actor_id(conn, requester.id).await? {
                    notify(
                        ctx,
                        conn,
                        account.id,
                        NotificationKind::WorkspaceMembership,
                        access.member.actor_id,
                        WorkspaceRefs {
                            workspace_id: Some(access.workspace.id),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            } else {
                outbound::record(
                    ctx,
                    conn,
                    OutboundEvent::WorkspaceUpdated {
                        workspace: Box::new(access.workspace.clone()),
                    },
                )
                .await?;
            }
        }
        Ok(answered)
    })
    .await
}

/// A pending join request with its requester.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub request: DbWorkspaceJoinRequest,
    pub requester: DbActor,
}

/// The pending join requests of a workspace (coordinators and the owner).
pub async fn join_requests(ctx: &AppContext, access: &Access) -> AppResult<Vec<PendingRequest>> {
    access.require(Role::Coordinator)?;
    let mut conn = ctx.conn().await?;
    let rows: Vec<(DbWorkspaceJoinRequest, DbActor)> = workspace_join_requests::table
        .inner_join(
            crate::db::schema::actors::table
                .on(crate::db::schema::actors::id.eq(workspace_join_requests::actor_id)),
        )
        .filter(workspace_join_requests::workspace_id.eq(access.workspace.id))
        .filter(workspace_join_requests::status.eq(PENDING))
        .order(workspace_join_requests::created_at)
        .select((DbWorkspaceJoinRequest::as_select(), DbActor::as_select()))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(request, requester)| PendingRequest { request, requester })
        .collect())
}
