//! Who receives a workspace's content: the one rule (DESIGN §3). For a workspace of ours, the
//! personal inboxes of its remote members, each addressed by id in `to`; for a remote
//! workspace one of our members belongs to, the workspace actor itself (it relays). Never
//! as:Public, never a followers collection, never a shared inbox (a shared inbox delivers to
//! whoever on that server the server thinks is addressed: a member's own inbox is the only
//! place that names exactly one recipient).

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, workspaces::DbWorkspace},
    error::{AppError, AppResult},
    federation::delivery::{OutgoingActivity, enqueue},
};
use diesel_async::AsyncPgConnection;
use url::Url;

/// The recipients of one workspace activity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audience {
    /// Actor ids for the activity's and the object's `to` (nothing else is addressed).
    pub to: Vec<Url>,
    /// Where the deliveries go: one personal inbox per recipient.
    pub inboxes: Vec<Url>,
}

/// The audience of `workspace`'s content, leaving out `except` (e.g. the remote author of a
/// message a workspace of ours relays: they have it already).
pub async fn of(
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    except: Option<&DbActor>,
) -> AppResult<Audience> {
    let mut audience = Audience::default();
    if workspace.local {
        for (ap_id, inbox) in db::workspaces::remote_member_inboxes(conn, workspace.id).await? {
            if except.is_some_and(|e| e.ap_id == ap_id) {
                continue;
            }
            audience.to.push(Url::parse(&ap_id)?);
            audience.inboxes.push(Url::parse(&inbox)?);
        }
    } else {
        let group = db::actors::by_id(conn, workspace.actor_id).await?;
        if except.is_some_and(|e| e.id == group.id) {
            return Ok(audience);
        }
        audience.to.push(Url::parse(&group.ap_id)?);
        audience.inboxes.push(Url::parse(&group.inbox_url)?);
    }
    Ok(audience)
}

/// A workspace activity ready to be stored and delivered.
pub struct PrivateActivity<'a> {
    pub id: &'a Url,
    pub kind: &'static str,
    /// The local actor that signs it (a member, or the workspace's `Group`).
    pub actor: &'a DbActor,
    pub object_ap_id: &'a str,
    /// The activity with its `@context`; its `to` must be `audience.to` and nothing else.
    pub json: serde_json::Value,
}

/// Stores the activity as private (never in an outbox, never served unsigned) and one
/// delivery per inbox of `inboxes`, none to a rejected domain, in the caller's transaction.
pub async fn enqueue_private(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    activity: PrivateActivity<'_>,
    inboxes: Vec<Url>,
) -> AppResult<()> {
    if activity
        .json
        .get("cc")
        .is_some_and(|cc| !cc.as_array().is_some_and(Vec::is_empty))
    {
        return Err(AppError::internal(
            "a workspace activity is addressed in `to` only",
        ));
    }
    if inboxes.is_empty() {
        return Ok(());
    }
    let inboxes = ctx.blocks.without_rejected(conn, inboxes).await?;
    enqueue(
        conn,
        &ctx.config.domain(),
        OutgoingActivity {
            ap_id: activity.id.as_str(),
            kind: activity.kind,
            actor: activity.actor,
            object_ap_id: Some(activity.object_ap_id),
            json: activity.json,
            public: false,
        },
        inboxes,
    )
    .await?;
    Ok(())
}
