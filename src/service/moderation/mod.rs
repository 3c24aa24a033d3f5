//! Moderation after publication: content is visible at once; reports (from members, visitors
//! and other servers' `Flag`s) reach the moderators, who act on them. Every action is written
//! to one log (`moderation_actions`), which is also each author's statement of reasons.
//!
//! The one reporting path is [`reports::submit`]: the web form, the API and the inbox's
//! `Flag` all call it. A later feature whose objects can be reported adds a [`TargetKind`]
//! variant and its lookup in [`targets`], not a path.

use crate::{
    db::{
        self, Conn,
        accounts::DbAccount,
        moderation_actions::{DbModerationAction, NewModerationAction},
    },
    error::{AppError, AppResult},
    service::accounts::{is_admin, is_moderator},
};
use url::Url;

pub mod decisions;
pub mod forward;
pub mod queue;
pub mod reports;
pub mod resolve;
pub mod rules;
pub use resolve::resolve;
pub mod sanctions;
pub mod targets;

/// Why something is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Spam,
    /// Illegal content (the DSA's notice of illegal content).
    Illegal,
    Harassment,
    /// Off-topic: e.g. a show announcement that belongs on the events agenda.
    OffTopic,
    Other,
}

impl Reason {
    pub const ALL: &'static [Reason] = &[
        Reason::Spam,
        Reason::Illegal,
        Reason::Harassment,
        Reason::OffTopic,
        Reason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Spam => "spam",
            Reason::Illegal => "illegal",
            Reason::Harassment => "harassment",
            Reason::OffTopic => "off_topic",
            Reason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// The i18n key of its label.
    pub fn label_key(self) -> &'static str {
        match self {
            Reason::Spam => "moderation.reason.spam",
            Reason::Illegal => "moderation.reason.illegal",
            Reason::Harassment => "moderation.reason.harassment",
            Reason::OffTopic => "moderation.reason.off_topic",
            Reason::Other => "moderation.reason.other",
        }
    }
}

/// What a report can name. Later features add theirs (venue, offer, forum message, resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// An account (local member or remote actor): its profile.
    Actor,
    /// A blog post or an announcement, local or remote.
    Post,
    /// A comment, local or remote.
    Comment,
    /// A venue of the directory (also an actor: its profile).
    Venue,
    /// An offer of equipment or space to share.
    Offer,
    /// A resource of the library (named by its ActivityPub id, its page address).
    Resource,
}

impl TargetKind {
    pub const ALL: &'static [TargetKind] = &[
        TargetKind::Actor,
        TargetKind::Post,
        TargetKind::Comment,
        TargetKind::Venue,
        TargetKind::Offer,
        TargetKind::Resource,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Actor => "actor",
            TargetKind::Post => "post",
            TargetKind::Comment => "comment",
            TargetKind::Venue => "venue",
            TargetKind::Offer => "offer",
            TargetKind::Resource => "resource",
        }
    }

    pub fn parse(s: &str) -> Option<TargetKind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// What a moderator can decide when resolving a report (DESIGN §6 `resolve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Nothing wrong: the report is closed, nothing changes.
    Dismiss,
    /// Not public any more, the author is told and can still see it; reversible.
    Hide,
    /// Removed; a local object's `Delete` federates to every server that received it.
    Delete,
    /// Removed as off-topic with the preset message pointing to `moderation.redirect_url`.
    Redirect,
    /// The author is warned (a notice on their next visit, and a mail).
    Warn,
    /// A local account is suspended (its actor answers 410; `Delete` of the actor federates).
    Suspend,
    /// A remote actor is blocked (its activities refused, its stored content hidden).
    Block,
}

impl Resolution {
    pub const ALL: &'static [Resolution] = &[
        Resolution::Dismiss,
        Resolution::Hide,
        Resolution::Delete,
        Resolution::Redirect,
        Resolution::Warn,
        Resolution::Suspend,
        Resolution::Block,
    ];

    pub fn as_str(self) -> &'static str {
        self.action().as_str()
    }

    pub fn parse(s: &str) -> Option<Resolution> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// The log entry it writes.
    pub fn action(self) -> ActionKind {
        match self {
            Resolution::Dismiss => ActionKind::Dismiss,
            Resolution::Hide => ActionKind::Hide,
            Resolution::Delete => ActionKind::Delete,
            Resolution::Redirect => ActionKind::Redirect,
            Resolution::Warn => ActionKind::Warn,
            Resolution::Suspend => ActionKind::Suspend,
            Resolution::Block => ActionKind::Block,
        }
    }
}

/// Every kind of entry of the moderators' log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Dismiss,
    Hide,
    Unhide,
    Delete,
    Redirect,
    Warn,
    Suspend,
    Unsuspend,
    Block,
    Unblock,
    /// A report sent to the reported content's server as a `Flag`.
    Forward,
    /// The outcome of a report sent back to the server that forwarded it.
    OutcomeSent,
    Assign,
    AppealGranted,
    AppealRejected,
    DomainBlock,
    DomainUnblock,
    RoleChange,
    RuleCreate,
    RuleUpdate,
    RuleDelete,
}

impl ActionKind {
    pub const ALL: &'static [ActionKind] = &[
        ActionKind::Dismiss,
        ActionKind::Hide,
        ActionKind::Unhide,
        ActionKind::Delete,
        ActionKind::Redirect,
        ActionKind::Warn,
        ActionKind::Suspend,
        ActionKind::Unsuspend,
        ActionKind::Block,
        ActionKind::Unblock,
        ActionKind::Forward,
        ActionKind::OutcomeSent,
        ActionKind::Assign,
        ActionKind::AppealGranted,
        ActionKind::AppealRejected,
        ActionKind::DomainBlock,
        ActionKind::DomainUnblock,
        ActionKind::RoleChange,
        ActionKind::RuleCreate,
        ActionKind::RuleUpdate,
        ActionKind::RuleDelete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Dismiss => "dismiss",
            ActionKind::Hide => "hide",
            ActionKind::Unhide => "unhide",
            ActionKind::Delete => "delete",
            ActionKind::Redirect => "redirect",
            ActionKind::Warn => "warn",
            ActionKind::Suspend => "suspend",
            ActionKind::Unsuspend => "unsuspend",
            ActionKind::Block => "block",
            ActionKind::Unblock => "unblock",
            ActionKind::Forward => "forward",
            ActionKind::OutcomeSent => "outcome_sent",
            ActionKind::Assign => "assign",
            ActionKind::AppealGranted => "appeal_granted",
            ActionKind::AppealRejected => "appeal_rejected",
            ActionKind::DomainBlock => "domain_block",
            ActionKind::DomainUnblock => "domain_unblock",
            ActionKind::RoleChange => "role_change",
            ActionKind::RuleCreate => "rule_create",
            ActionKind::RuleUpdate => "rule_update",
            ActionKind::RuleDelete => "rule_delete",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// The i18n key of its label (`moderation.action.{name}`).
    pub fn label_key(self) -> &'static str {
        match self {
            ActionKind::Dismiss => "moderation.action.dismiss",
            ActionKind::Hide => "moderation.action.hide",
            ActionKind::Unhide => "moderation.action.unhide",
            ActionKind::Delete => "moderation.action.delete",
            ActionKind::Redirect => "moderation.action.redirect",
            ActionKind::Warn => "moderation.action.warn",
            ActionKind::Suspend => "moderation.action.suspend",
            ActionKind::Unsuspend => "moderation.action.unsuspend",
            ActionKind::Block => "moderation.action.block",
            ActionKind::Unblock => "moderation.action.unblock",
            ActionKind::Forward => "moderation.action.forward",
            ActionKind::OutcomeSent => "moderation.action.outcome_sent",
            ActionKind::Assign => "moderation.action.assign",
            ActionKind::AppealGranted => "moderation.action.appeal_granted",
            ActionKind::AppealRejected => "moderation.action.appeal_rejected",
            ActionKind::DomainBlock => "moderation.action.domain_block",
            ActionKind::DomainUnblock => "moderation.action.domain_unblock",
            ActionKind::RoleChange => "moderation.action.role_change",
            ActionKind::RuleCreate => "moderation.action.rule_create",
            ActionKind::RuleUpdate => "moderation.action.rule_update",
            ActionKind::RuleDelete => "moderation.action.rule_delete",
        }
    }

    /// A removal or restriction: its author gets a statement of reasons and may appeal.
    pub fn is_restriction(self) -> bool {
        matches!(
            self,
            ActionKind::Hide
                | ActionKind::Delete
                | ActionKind::Redirect
                | ActionKind::Warn
                | ActionKind::Suspend
                | ActionKind::Block
        )
    }
}

/// Who reports.
#[derive(Debug, Clone)]
pub enum Reporter {
    /// A logged-in member.
    Member(Box<DbAccount>),
    /// A visitor, who leaves an address to hear the outcome.
    Visitor { email: String },
    /// Another server, through a `Flag`: the actor that sent it (its instance actor or a
    /// person), the Flag's id (stored once), and the sending server (`host[:port]`).
    Remote {
        actor_id: i64,
        flag_id: Url,
        domain: String,
    },
}

/// A report as submitted, from any origin.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub reporter: Reporter,
    /// What is reported: ActivityPub ids or page URLs, of local or remote objects and actors.
    pub targets: Vec<Url>,
    pub reason: Reason,
    /// The instance rules the reporter says are broken.
    pub rule_ids: Vec<i64>,
    pub comment: String,
    /// The reporter asks that the report be forwarded to the remote content's server (a
    /// moderator decides).
    pub forward: bool,
}

/// A moderator's decision on a report.
#[derive(Debug, Clone)]
pub struct ResolveInput {
    pub action: Resolution,
    /// The statement shown to the author (why); a preset text is used when empty.
    pub statement: String,
    /// The rules the decision refers to.
    pub rule_ids: Vec<i64>,
    /// The moderators' internal note (never shown to the author nor the reporter).
    pub note: String,
    /// For a report received from another server: send the outcome back to it.
    pub send_outcome: bool,
}

/// What became of `report`, in `lang` ("?" while it is open).
pub fn outcome_label(
    report: &crate::db::reports::DbReport,
    lang: crate::i18n::Lang,
) -> &'static str {
    report
        .resolution
        .as_deref()
        .and_then(ActionKind::parse)
        .map(|a| lang.t(a.label_key()))
        .unwrap_or("?")
}

/// Moderators and admins handle reports and content.
pub fn ensure_moderator(account: &DbAccount) -> AppResult<()> {
    if account.suspended_at.is_none() && is_moderator(account) {
        Ok(())
    } else {
        Err(AppError::forbidden("moderators and admins only"))
    }
}

/// Only admins manage roles, domain blocks, rules and suspensions of staff.
pub fn ensure_admin(account: &DbAccount) -> AppResult<()> {
    if account.suspended_at.is_none() && is_admin(account) {
        Ok(())
    } else {
        Err(AppError::forbidden("admins only"))
    }
}

/// Records `event` for every moderator and admin (not suspended), in the caller's
/// transaction: a new report, an appeal. `event.account_id` is replaced by each one's.
pub async fn notify_moderators(
    ctx: &crate::context::AppContext,
    conn: &mut Conn,
    event: crate::service::notifications::Event,
) -> AppResult<()> {
    use crate::db::schema::accounts;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let moderators: Vec<i64> = accounts::table
        .filter(accounts::role.eq_any(["moderator", "admin"]))
        .filter(accounts::suspended_at.is_null())
        .select(accounts::id)
        .load(conn)
        .await?;
    for account_id in moderators {
        let event = crate::service::notifications::Event {
            account_id,
            ..event.clone()
        };
        crate::service::notifications::record(ctx, conn, event).await?;
    }
    Ok(())
}

/// Writes one entry of the moderators' log, in the caller's transaction. Every moderation
/// action goes through here.
pub async fn log(conn: &mut Conn, entry: NewModerationAction) -> AppResult<DbModerationAction> {
    Ok(db::moderation_actions::insert(conn, &entry).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(*r));
        }
        for r in Resolution::ALL {
            assert_eq!(Resolution::parse(r.as_str()), Some(*r));
        }
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.as_str()), Some(*k));
        }
        for k in TargetKind::ALL {
            assert_eq!(TargetKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(Reason::parse("nope"), None);
        assert!(ActionKind::Redirect.is_restriction());
        assert!(!ActionKind::Dismiss.is_restriction());
    }
}
