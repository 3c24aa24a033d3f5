//! Moderation: a forwarded report (`Flag` from the instance actor), the outcome of a report
//! sent back to the server that sent it, a suspended account's `Delete` and its restoration.
//!
//! **Forwarding.** One `Flag` per remote server named by the report, in Mastodon's shape (the
//! one every implementation reads): `actor` = our instance actor (`/actor`), `object` = [the
//! reported account(s) of that server, then the reported objects], `content` = the reason's
//! label and the reporter's comment (Mastodon reads only `content`), `to` = the reported
//! account(s). Its id is `/reports/{id}` (with the server appended when the report names
//! several servers, so each `Flag` has its own id). The local reporter is never named: not
//! as actor, not in any field.
//!
//! **Outcome sent back.** There is no standard way to tell a server what became of its
//! report: Mastodon, GoToSocial, Pleroma and Misskey send nothing and ignore what they do not
//! know; an `Accept`/`Reject` of the `Flag` has been discussed (w3c/activitystreams#609,
//! mastodon#31083) but nobody sends or reads it, and GoToSocial already sends `Reject` for
//! other purposes, so a `Reject` could be misread as "your report was refused". The only
//! implementation that federates a report's outcome is Lemmy (since 0.20): a `Resolve`
//! activity whose `object` is the original `Flag`, sent to the reporter's instance. We send
//! that shape — `type: Resolve`, `object` = the received `Flag` (its id, actor and objects),
//! `actor` = our instance actor, `to` = the actor that sent the `Flag`, to its (shared) inbox
//! — with the decision as a short public sentence in `content` (the action's label: "Contenu
//! supprimé"…). The moderators' internal note and the statement to the author are never
//! included. Servers that do not know `Resolve` ignore it (202).

use super::{Outgoing, with_context};
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        reports::{DbReport, DbReportTarget},
    },
    error::{AppError, AppResult},
    federation::{
        activities::{delete::Delete, flag::Flag, new_activity_id},
        delivery::followers_inboxes,
        objects::PUBLIC,
    },
    service::moderation::{ActionKind, Reason},
};
use activitypub_federation::traits::Actor;
use activitypub_federation::{fetch::object_id::ObjectId, kinds::activity::DeleteType};
use diesel_async::AsyncPgConnection;
use serde_json::json;
use std::collections::HashSet;
use url::Url;

/// Our instance actor, which signs Flags and outcomes.
async fn instance_actor(ctx: &AppContext, conn: &mut AsyncPgConnection) -> AppResult<DbActor> {
    db::actors::by_ap_id(conn, &ctx.urls.instance_actor())
        .await?
        .ok_or_else(|| AppError::internal("the instance actor is missing"))
}

/// What one server is told: the accounts and objects of that server the report names.
#[derive(Debug, Default)]
struct ServerGroup {
    domain: String,
    accounts: Vec<DbActor>,
    objects: Vec<Url>,
}

impl ServerGroup {
    fn add_account(&mut self, actor: DbActor) {
        if !self.accounts.iter().any(|a| a.id == actor.id) {
            self.accounts.push(actor);
        }
    }
}

/// The remote targets grouped by the server of their author (the reported account first).
async fn group_by_server(
    conn: &mut AsyncPgConnection,
    report: &DbReport,
    targets: &[DbReportTarget],
) -> AppResult<Vec<ServerGroup>> {
    let mut groups: Vec<ServerGroup> = Vec::new();
    let place = |groups: &mut Vec<ServerGroup>, author: DbActor, object: Option<Url>| {
        let index = match groups.iter().position(|g| g.domain == author.domain) {
            Some(i) => i,
            None => {
                groups.push(ServerGroup {
                    domain: author.domain.clone(),
                    ..ServerGroup::default()
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        group.add_account(author);
        if let Some(object) = object
            && !group.objects.contains(&object)
        {
            group.objects.push(object);
        }
    };
    if let Some(id) = report.target_actor_id {
        let actor = db::actors::by_id(conn, id).await?;
        if !actor.local {
            place(&mut groups, actor, None);
        }
    }
    for target in targets {
        let author_id = if let Some(id) = target.actor_id {
            Some(id)
        } else if let Some(id) = target.post_id {
            db::posts::by_id(conn, id).await?.map(|p| p.author_actor_id)
        } else if let Some(id) = target.comment_id {
            db::comments::by_id(conn, id)
                .await?
                .map(|c| c.author_actor_id)
        } else {
            None
        };
        let Some(author_id) = author_id else {
            continue;
        };
        let author = db::actors::by_id(conn, author_id).await?;
        if author.local {
            continue;
        }
        let object = if target.actor_id.is_some() {
            None
        } else {
            Url::parse(&target.ap_id).ok()
        };
        place(&mut groups, author, object);
    }
    Ok(groups)
}

/// The `content` of a forwarded Flag: the reason's label, then the reporter's comment.
fn flag_content(ctx: &AppContext, report: &DbReport) -> String {
    let reason = Reason::parse(&report.reason).unwrap_or(Reason::Other);
    let label = ctx.default_lang.t(reason.label_key());
    let comment = report.comment.trim();
    if comment.is_empty() {
        label.to_string()
    } else {
        format!("{label}\n\n{comment}")
    }
}

/// One `Flag` per remote server the report names, from the instance actor.
pub(super) async fn forward(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    report: &DbReport,
    targets: &[DbReportTarget],
) -> AppResult<()> {
    let groups = group_by_server(conn, report, targets).await?;
    if groups.is_empty() {
        return Err(AppError::internal(format!(
            "report {}: nothing remote to forward",
            report.id
        )));
    }
    let actor = instance_actor(ctx, conn).await?;
    let content = flag_content(ctx, report);
    let several = groups.len() > 1;
    for group in groups {
        let id = if several {
            Url::parse(&format!(
                "{}/{}",
                ctx.urls.report(report.id),
                group.domain.replace(':', "_")
            ))?
        } else {
            Url::parse(&ctx.urls.report(report.id))?
        };
        let mut objects: Vec<Url> = group.accounts.iter().map(|a| a.ap_url.clone()).collect();
        objects.extend(group.objects.iter().cloned());
        let to: Vec<Url> = group.accounts.iter().map(|a| a.ap_url.clone()).collect();
        let mut inboxes: Vec<Url> = Vec::new();
        for account in &group.accounts {
            let inbox = account.shared_inbox_or_inbox();
            if !inboxes.contains(&inbox) {
                inboxes.push(inbox);
            }
        }
        let flag = Flag::new(id.clone(), &actor, &objects, content.clone(), to);
        Outgoing {
            id,
            kind: "Flag",
            actor: &actor,
            object_ap_id: objects.first().map(Url::to_string).unwrap_or_default(),
            json: with_context(flag)?,
            public: false,
            inboxes,
        }
        .enqueue(ctx, conn)
        .await?;
    }
    Ok(())
}

/// The outcome of a report another server sent us: `Resolve` of its `Flag`, to the actor
/// that sent it (see the module documentation for the choice of shape).
pub(super) async fn outcome(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    report: &DbReport,
) -> AppResult<()> {
    let (Some(flag_id), Some(reporter_id)) = (report.ap_id.as_deref(), report.reporter_actor_id)
    else {
        return Err(AppError::internal(format!(
            "report {} was not received from another server",
            report.id
        )));
    };
    let reporter = db::actors::by_id(conn, reporter_id).await?;
    if reporter.local || reporter.deleted_at.is_some() {
        return Ok(());
    }
    let objects: Vec<String> = db::reports::targets_of(conn, report.id)
        .await?
        .into_iter()
        .map(|t| t.ap_id)
        .collect();
    let decision = report
        .resolution
        .as_deref()
        .and_then(ActionKind::parse)
        .map(|a| ctx.default_lang.t(a.label_key()))
        .unwrap_or_else(|| ctx.default_lang.t("moderation.outcome.resolved"));
    let actor = instance_actor(ctx, conn).await?;
    let id = new_activity_id(ctx)?;
    let activity = json!({
        "id": id.as_str(),
        "type": "Resolve",
        "actor": actor.ap_id,
        "object": {
            "id": flag_id,
            "type": "Flag",
            "actor": reporter.ap_id,
            "object": objects,
        },
        "content": decision,
        "to": [reporter.ap_id],
    });
    Outgoing {
        id,
        kind: "Resolve",
        actor: &actor,
        object_ap_id: flag_id.to_string(),
        json: with_context(activity)?,
        public: false,
        inboxes: vec![reporter.shared_inbox_or_inbox()],
    }
    .enqueue(ctx, conn)
    .await
}

/// Everyone who knows the local actor: its followers' inboxes and every server it has
/// delivered to (one shared inbox per server when we know one), each once.
async fn known_audience(conn: &mut AsyncPgConnection, actor: &DbActor) -> AppResult<Vec<Url>> {
    let mut inboxes = followers_inboxes(conn, actor.id).await?;
    let mut seen: HashSet<Url> = inboxes.iter().cloned().collect();
    for inbox in db::deliveries::known_inboxes_of(conn, actor.id).await? {
        if let Ok(url) = Url::parse(&inbox)
            && seen.insert(url.clone())
        {
            inboxes.push(url);
        }
    }
    Ok(inboxes)
}

/// A suspended account: `Delete` of its actor (object = the actor's id, as Mastodon sends on
/// a suspension), signed by the actor itself (its keys stay in our database), to its
/// followers and every server it delivered to. Receivers drop the account and its follows.
pub(super) async fn actor_deleted(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: &DbActor,
) -> AppResult<()> {
    let id = new_activity_id(ctx)?;
    let mut cc = Vec::new();
    if let Some(followers) = actor.followers_url.as_deref() {
        cc.push(Url::parse(followers)?);
    }
    let activity = Delete {
        kind: DeleteType::Delete,
        id: id.clone(),
        actor: ObjectId::from(actor.ap_url.clone()),
        object: serde_json::Value::String(actor.ap_id.clone()),
        to: vec![Url::parse(PUBLIC)?],
        cc,
    };
    let inboxes = known_audience(conn, actor).await?;
    Outgoing {
        id,
        kind: "Delete",
        actor,
        object_ap_id: actor.ap_id.clone(),
        json: with_context(activity)?,
        // Not served in the outbox nor at its id: the actor is gone for the public.
        public: false,
        inboxes,
    }
    .enqueue(ctx, conn)
    .await
}

/// A lifted suspension: `Update` of the actor (its current document), to the same audience
/// as the `Delete`. A server that kept the account (or fetches it again: a signed activity
/// makes Mastodon fetch its key, and the actor answers again) shows it anew; the follows it
/// dropped on the `Delete` are not restored there.
pub(super) async fn actor_restored(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    actor: &DbActor,
) -> AppResult<()> {
    let inboxes = known_audience(conn, actor).await?;
    super::follows::actor_update(ctx, conn, actor, inboxes).await
}
