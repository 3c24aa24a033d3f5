//! Notifications: what happened that a member should know (a reply, a mention, a new
//! follower, likes and boosts, a new announcement matching an alert…). One table, one type
//! enum ([`NotificationKind`]), one rendering per type. Domain functions call [`record`] in
//! their own transaction; the member's preference for the type decides whether it shows in
//! the centre only, goes out by mail at once, waits for a digest, or is not recorded at all.

use crate::{
    context::AppContext,
    db::{
        self,
        notifications::{DbNotification, NewNotification},
        schema::notification_preferences,
    },
    error::AppResult,
};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub mod centre;
pub mod events;
mod render;

pub use render::{
    Described, by_recipient_language, describe, describe_grouped, queue_instant_mails,
    recipient_lang,
};

/// The settings page where a member chooses, per type, where notifications go.
pub const SETTINGS_PATH: &str = "/parametres/notifications";

/// Every type of notification. A later feature adds a variant (and its rendering), not a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// Someone replied to the member's post, announcement or comment.
    Reply,
    /// Someone mentioned the member.
    Mention,
    /// Someone now follows the member.
    Follow,
    /// Someone asks to follow the member (manual approval).
    FollowRequest,
    /// Someone liked the member's post, announcement or comment (grouped per object).
    Like,
    /// Someone boosted the member's post or announcement (grouped per object).
    Boost,
    /// A new announcement matches one of the member's alerts.
    Announcement,
    /// A new report to handle (moderators and admins).
    Report,
    /// The member's report was handled: its outcome (never the moderators' note).
    ReportOutcome,
    /// A moderator removed or restricted the member's content or account: the statement of
    /// reasons (what, why, which rule, how to appeal).
    ModerationDecision,
    /// An author appealed a decision (moderators and admins).
    Appeal,
    /// A member asks to borrow one of the member's offers.
    LoanRequest,
    /// The owner accepted or declined the member's loan request.
    LoanAnswer,
    /// An invitation to join a workspace (a local or remote one).
    WorkspaceInvitation,
    /// Someone asks to join a listed workspace the member coordinates.
    WorkspaceJoinRequest,
    /// Someone mentioned the member in a workspace's chat.
    WorkspaceMention,
    /// A new document or version in one of the member's workspaces.
    WorkspaceDocument,
    /// A meeting scheduled, changed or cancelled in one of the member's workspaces.
    WorkspaceMeeting,
    /// The member's membership changed: join request answered, removed, role changed, ownership transferred, workspace archived.
    WorkspaceMembership,
    /// A new listed workspace (project) matches one of the member's alerts.
    Project,
    /// A new thread in a forum category the member follows.
    ForumThread,
    /// A new reply in a forum thread the member follows.
    ForumReply,
}

impl NotificationKind {
    pub const ALL: &'static [NotificationKind] = &[
        NotificationKind::Reply,
        NotificationKind::Mention,
        NotificationKind::Follow,
        NotificationKind::FollowRequest,
        NotificationKind::Like,
        NotificationKind::Boost,
        NotificationKind::Announcement,
        NotificationKind::Report,
        NotificationKind::ReportOutcome,
        NotificationKind::ModerationDecision,
        NotificationKind::Appeal,
        NotificationKind::LoanRequest,
        NotificationKind::LoanAnswer,
        NotificationKind::WorkspaceInvitation,
        NotificationKind::WorkspaceJoinRequest,
        NotificationKind::WorkspaceMention,
        NotificationKind::WorkspaceDocument,
        NotificationKind::WorkspaceMeeting,
        NotificationKind::WorkspaceMembership,
        NotificationKind::Project,
        NotificationKind::ForumThread,
        NotificationKind::ForumReply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Reply => "reply",
            NotificationKind::Mention => "mention",
            NotificationKind::Follow => "follow",
            NotificationKind::FollowRequest => "follow_request",
            NotificationKind::Like => "like",
            NotificationKind::Boost => "boost",
            NotificationKind::Announcement => "announcement",
            NotificationKind::Report => "report",
            NotificationKind::ReportOutcome => "report_outcome",
            NotificationKind::ModerationDecision => "moderation_decision",
            NotificationKind::Appeal => "appeal",
            NotificationKind::LoanRequest => "loan_request",
            NotificationKind::LoanAnswer => "loan_answer",
            NotificationKind::WorkspaceInvitation => "workspace_invitation",
            NotificationKind::WorkspaceJoinRequest => "workspace_join_request",
            NotificationKind::WorkspaceMention => "workspace_mention",
            NotificationKind::WorkspaceDocument => "workspace_document",
            NotificationKind::WorkspaceMeeting => "workspace_meeting",
            NotificationKind::WorkspaceMembership => "workspace_membership",
            NotificationKind::Project => "project",
            NotificationKind::ForumThread => "forum_thread",
            NotificationKind::ForumReply => "forum_reply",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationKind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// What a member may choose for this type. Announcements only show in the centre or not
    /// at all: whether they are mailed, at once or in a digest, is chosen per alert.
    /// A statement of reasons always reaches its author, by mail too (the Digital Services
    /// Act asks that it be given): no other choice.
    pub fn choices(self) -> &'static [Delivery] {
        match self {
            // Whether a matching announcement or project is mailed is chosen per alert.
            NotificationKind::Announcement | NotificationKind::Project => {
                &[Delivery::Centre, Delivery::Off]
            }
            NotificationKind::ModerationDecision => &[Delivery::Instant],
            _ => Delivery::ALL,
        }
    }

    /// What a member gets when they never chose: replies, mentions, everything about
    /// moderation by mail at once, the rest in the centre.
    pub fn default_delivery(self) -> Delivery {
        match self {
            NotificationKind::Reply
            | NotificationKind::Mention
            | NotificationKind::Report
            | NotificationKind::ReportOutcome
            | NotificationKind::ModerationDecision
            | NotificationKind::Appeal
            | NotificationKind::LoanRequest
            | NotificationKind::LoanAnswer
            | NotificationKind::WorkspaceInvitation
            | NotificationKind::WorkspaceJoinRequest
            | NotificationKind::WorkspaceMention
            | NotificationKind::WorkspaceMeeting => Delivery::Instant,
            _ => Delivery::Centre,
        }
    }

    /// Only moderators and admins receive it (settings pages show it to them only).
    pub fn moderators_only(self) -> bool {
        matches!(self, NotificationKind::Report | NotificationKind::Appeal)
    }
}

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// In the notification centre only.
    Centre,
    /// In the centre, and by mail at once.
    Instant,
    /// In the centre, and in the daily digest mail.
    Daily,
    /// In the centre, and in the weekly digest mail.
    Weekly,
    /// Not recorded.
    Off,
}

impl Delivery {
    pub const ALL: &'static [Delivery] = &[
        Delivery::Centre,
        Delivery::Instant,
        Delivery::Daily,
        Delivery::Weekly,
        Delivery::Off,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Centre => "centre",
            Delivery::Instant => "instant",
            Delivery::Daily => "daily",
            Delivery::Weekly => "weekly",
            Delivery::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Delivery> {
        Self::ALL.iter().copied().find(|d| d.as_str() == s)
    }
}

/// One event for one member.
#[derive(Debug, Clone)]
pub struct Event {
    pub account_id: i64,
    pub kind: NotificationKind,
    /// Who did it (local or remote actor).
    pub actor_id: Option<i64>,
    /// The post or announcement it is about.
    pub post_id: Option<i64>,
    /// The comment it is about (a reply, a mention in a comment, a liked comment).
    pub comment_id: Option<i64>,
    /// The ActivityPub id of what it is about (liked or boosted object): groups likes/boosts.
    pub object_ap_id: Option<String>,
    /// The alert that matched (announcements).
    pub alert_id: Option<i64>,
    /// Keeps a repeated event to one row per member (e.g. `like:{actor}:{object}`).
    pub dedupe_key: Option<String>,
    /// The report it is about (new report for moderators, outcome for the reporter).
    pub report_id: Option<i64>,
    /// The moderation decision it is about (statement of reasons, appeal).
    pub moderation_action_id: Option<i64>,
    /// The loan request it is about (new request for the owner, answer for the requester).
    pub loan_request_id: Option<i64>,
    /// The venue it is about (a new follower, for its managers).
    pub venue_id: Option<i64>,
    /// The workspace it is about, and what in it.
    pub workspace: WorkspaceRefs,
}

/// What in a workspace a notification is about (all empty for anything else).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkspaceRefs {
    pub workspace_id: Option<uuid::Uuid>,
    pub message_id: Option<uuid::Uuid>,
    pub document_id: Option<uuid::Uuid>,
    pub meeting_id: Option<uuid::Uuid>,
    pub invitation_id: Option<uuid::Uuid>,
}

/// The member's choice for each type (defaults where they never chose).
pub async fn delivery_for(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    kind: NotificationKind,
) -> AppResult<Delivery> {
    let stored: Option<String> = notification_preferences::table
        .filter(notification_preferences::account_id.eq(account_id))
        .filter(notification_preferences::kind.eq(kind.as_str()))
        .select(notification_preferences::delivery)
        .first(conn)
        .await
        .optional()?;
    Ok(stored
        .as_deref()
        .and_then(Delivery::parse)
        .unwrap_or_else(|| kind.default_delivery()))
}

/// Records the member's choice for one type, in the caller's transaction.
pub async fn set_delivery(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    kind: NotificationKind,
    delivery: Delivery,
) -> AppResult<()> {
    diesel::insert_into(notification_preferences::table)
        .values((
            notification_preferences::account_id.eq(account_id),
            notification_preferences::kind.eq(kind.as_str()),
            notification_preferences::delivery.eq(delivery.as_str()),
        ))
        .on_conflict((
            notification_preferences::account_id,
            notification_preferences::kind,
        ))
        .do_update()
        .set(notification_preferences::delivery.eq(delivery.as_str()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records one event in the caller's transaction, as the member's preference says. Returns
/// the row written (none when the preference is off or the event was already recorded).
pub async fn record(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    event: Event,
) -> AppResult<Option<DbNotification>> {
    let mut delivery = delivery_for(conn, event.account_id, event.kind).await?;
    if !event.kind.choices().contains(&delivery) {
        delivery = event.kind.default_delivery();
    }
    if delivery == Delivery::Off {
        return Ok(None);
    }
    let row = NewNotification {
        account_id: event.account_id,
        kind: event.kind.as_str().to_string(),
        actor_id: event.actor_id,
        post_id: event.post_id,
        comment_id: event.comment_id,
        object_ap_id: event.object_ap_id,
        alert_id: event.alert_id,
        dedupe_key: event.dedupe_key,
        delivery: delivery.as_str().to_string(),
        report_id: event.report_id,
        moderation_action_id: event.moderation_action_id,
        loan_request_id: event.loan_request_id,
        venue_id: event.venue_id,
        workspace_id: event.workspace.workspace_id,
        workspace_message_id: event.workspace.message_id,
        workspace_document_id: event.workspace.document_id,
        workspace_meeting_id: event.workspace.meeting_id,
        workspace_invitation_id: event.workspace.invitation_id,
    };
    let written = db::notifications::insert_many(conn, &[row]).await?;
    queue_instant_mails(ctx, conn, &written).await?;
    Ok(written.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_deliveries_round_trip() {
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(k.as_str()), Some(*k));
        }
        for d in Delivery::ALL {
            assert_eq!(Delivery::parse(d.as_str()), Some(*d));
        }
        assert_eq!(NotificationKind::parse("nope"), None);
        assert_eq!(
            NotificationKind::Reply.default_delivery(),
            Delivery::Instant
        );
        assert_eq!(NotificationKind::Like.default_delivery(), Delivery::Centre);
    }
}
