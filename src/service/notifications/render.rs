//! One rendering per notification type: the sentence that names what happened, who did it and
//! where to look. Rendering loads what it needs for many rows at once (one query per table),
//! because an announcement can notify thousands of members in one transaction.

use super::{Delivery, NotificationKind};
use crate::service::publishing::page_url_of;
use crate::{
    context::AppContext,
    db::{
        self,
        notifications::{DbNotification, MailRecipient},
        schema::{actors, comments, loan_requests, moderation_actions, offers, posts, reports},
    },
    error::AppResult,
    i18n::Lang,
    service::mail::{
        self, MailBody, MailCategory, OutgoingMail,
        unsubscribe::{self, Scope},
    },
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// A notification ready to show or to mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub id: i64,
    pub kind: NotificationKind,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    /// Who did it: display name and profile URL.
    pub actor: Option<(String, String)>,
    /// Where to look (absolute URL): the post, the comment, the follower's profile.
    pub object_url: Option<String>,
    /// The title of the post or announcement it is about, when there is one.
    pub title: Option<String>,
    /// How many other actors did the same (grouped likes and boosts); 0 otherwise.
    pub others: i64,
    /// The sentence that names what happened, e.g. « Léa a répondu à « Titre » ».
    pub text: String,
}

#[derive(Queryable)]
struct ActorInfo {
    id: i64,
    ap_id: String,
    username: String,
    local: bool,
    name: String,
    url: Option<String>,
}

#[derive(Queryable)]
struct PostInfo {
    id: i64,
    category: String,
    ap_id: String,
    title: String,
    slug: String,
    local: bool,
}

#[derive(Queryable)]
struct CommentInfo {
    id: i64,
    parent_id: Option<i64>,
}

/// A report: its reason and, once resolved, its outcome.
#[derive(Queryable)]
struct ReportInfo {
    id: i64,
    reason: String,
    resolution: Option<String>,
}

/// A moderation decision: what was done.
#[derive(Queryable)]
struct ActionInfo {
    id: i64,
    action: String,
}

/// A loan request: the offer's title and whether it was accepted.
#[derive(Queryable)]
struct LoanInfo {
    id: i64,
    state: String,
    title: String,
}

/// What the rendering of a batch of rows needs, loaded in one query per table.
struct Loaded {
    loans: HashMap<i64, LoanInfo>,
    actors: HashMap<i64, ActorInfo>,
    posts: HashMap<i64, PostInfo>,
    comments: HashMap<i64, CommentInfo>,
    reports: HashMap<i64, ReportInfo>,
    actions: HashMap<i64, ActionInfo>,
}

async fn load(conn: &mut AsyncPgConnection, rows: &[&DbNotification]) -> AppResult<Loaded> {
    let mut actor_ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_id).collect();
    let mut post_ids: Vec<i64> = rows.iter().filter_map(|r| r.post_id).collect();
    let mut comment_ids: Vec<i64> = rows.iter().filter_map(|r| r.comment_id).collect();
    let mut report_ids: Vec<i64> = rows.iter().filter_map(|r| r.report_id).collect();
    let mut action_ids: Vec<i64> = rows.iter().filter_map(|r| r.moderation_action_id).collect();
    let mut loan_ids: Vec<i64> = rows.iter().filter_map(|r| r.loan_request_id).collect();
    for ids in [
        &mut loan_ids,
        &mut actor_ids,
        &mut post_ids,
        &mut comment_ids,
        &mut report_ids,
        &mut action_ids,
    ] {
        ids.sort_unstable();
        ids.dedup();
    }
    let actors: Vec<ActorInfo> = if actor_ids.is_empty() {
        Vec::new()
    } else {
        actors::table
            .filter(actors::id.eq_any(&actor_ids))
            .select((
                actors::id,
                actors::ap_id,
                actors::username,
                actors::local,
                actors::name,
                actors::url,
            ))
            .load(conn)
            .await?
    };
    let posts: Vec<PostInfo> = if post_ids.is_empty() {
        Vec::new()
    } else {
        posts::table
            .filter(posts::id.eq_any(&post_ids))
            .select((
                posts::id,
                posts::category,
                posts::ap_id,
                posts::title,
                posts::slug,
                posts::local,
            ))
            .load(conn)
            .await?
    };
    let comments: Vec<CommentInfo> = if comment_ids.is_empty() {
        Vec::new()
    } else {
        comments::table
            .filter(comments::id.eq_any(&comment_ids))
            .select((comments::id, comments::parent_id))
            .load(conn)
            .await?
    };
    let reports: Vec<ReportInfo> = if report_ids.is_empty() {
        Vec::new()
    } else {
        reports::table
            .filter(reports::id.eq_any(&report_ids))
            .select((reports::id, reports::reason, reports::resolution))
            .load(conn)
            .await?
    };
    let actions: Vec<ActionInfo> = if action_ids.is_empty() {
        Vec::new()
    } else {
        moderation_actions::table
            .filter(moderation_actions::id.eq_any(&action_ids))
            .select((moderation_actions::id, moderation_actions::action))
            .load(conn)
            .await?
    };
    let loans: Vec<LoanInfo> = if loan_ids.is_empty() {
        Vec::new()
    } else {
        loan_requests::table
            .inner_join(offers::table)
            .filter(loan_requests::id.eq_any(&loan_ids))
            .select((loan_requests::id, loan_requests::state, offers::title))
            .load(conn)
            .await?
    };
    Ok(Loaded {
        loans: loans.into_iter().map(|l| (l.id, l)).collect(),
        actors: actors.into_iter().map(|a| (a.id, a)).collect(),
        posts: posts.into_iter().map(|p| (p.id, p)).collect(),
        comments: comments.into_iter().map(|c| (c.id, c)).collect(),
        reports: reports.into_iter().map(|r| (r.id, r)).collect(),
        actions: actions.into_iter().map(|a| (a.id, a)).collect(),
    })
}

fn absolute(ctx: &AppContext, url: String) -> String {
    if url.starts_with('/') {
        ctx.urls.absolute(&url)
    } else {
        url
    }
}

fn actor_profile(ctx: &AppContext, a: &ActorInfo) -> String {
    if a.local {
        return ctx.urls.profile_page(&a.username);
    }
    a.url
        .clone()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .unwrap_or_else(|| a.ap_id.clone())
}

fn post_page(ctx: &AppContext, p: &PostInfo) -> String {
    absolute(
        ctx,
        page_url_of(p.id, p.local, &p.category, &p.ap_id, &p.slug),
    )
}

/// The sentence for one row. `others` counts the other actors of a group (likes, boosts).
fn sentence(
    lang: Lang,
    kind: NotificationKind,
    actor: &str,
    title: &str,
    on_comment: bool,
    others: i64,
) -> String {
    // How many others: none, one ("et une autre personne"), several.
    let group = others.clamp(0, 2);
    let key = match (kind, on_comment, group) {
        (NotificationKind::Reply, false, _) => "notifications.text.reply",
        (NotificationKind::Reply, true, _) => "notifications.text.reply_comment",
        (NotificationKind::Mention, false, _) => "notifications.text.mention",
        (NotificationKind::Mention, true, _) => "notifications.text.mention_comment",
        (NotificationKind::Follow, _, _) => "notifications.text.follow",
        (NotificationKind::FollowRequest, _, _) => "notifications.text.follow_request",
        (NotificationKind::Like, false, 0) => "notifications.text.like",
        (NotificationKind::Like, false, 1) => "notifications.text.like_pair",
        (NotificationKind::Like, false, _) => "notifications.text.like_group",
        (NotificationKind::Like, true, 0) => "notifications.text.like_comment",
        (NotificationKind::Like, true, 1) => "notifications.text.like_comment_pair",
        (NotificationKind::Like, true, _) => "notifications.text.like_comment_group",
        (NotificationKind::Boost, _, 0) => "notifications.text.boost",
        (NotificationKind::Boost, _, 1) => "notifications.text.boost_pair",
        (NotificationKind::Boost, _, _) => "notifications.text.boost_group",
        (NotificationKind::Announcement, _, _) => "notifications.text.announcement",
        (NotificationKind::Report, _, _) => "notifications.text.report",
        (NotificationKind::ReportOutcome, _, _) => "notifications.text.report_outcome",
        (NotificationKind::ModerationDecision, _, _) => "notifications.text.moderation_decision",
        (NotificationKind::Appeal, _, _) => "notifications.text.appeal",
        (NotificationKind::LoanRequest, _, _) => "notifications.text.loan_request",
        // The answer: accepted (`on_comment` is false) or declined (true).
        (NotificationKind::LoanAnswer, false, _) => "notifications.text.loan_accepted",
        (NotificationKind::LoanAnswer, true, _) => "notifications.text.loan_declined",
        (NotificationKind::WorkspaceInvitation, _, _) => "notifications.text.workspace_invitation",
        (NotificationKind::WorkspaceJoinRequest, _, _) => {
            "notifications.text.workspace_join_request"
        }
        (NotificationKind::WorkspaceMention, _, _) => "notifications.text.workspace_mention",
        (NotificationKind::WorkspaceDocument, _, _) => "notifications.text.workspace_document",
        (NotificationKind::WorkspaceMeeting, _, _) => "notifications.text.workspace_meeting",
        (NotificationKind::WorkspaceMembership, _, _) => "notifications.text.workspace_membership",
        (NotificationKind::Project, _, _) => "notifications.text.project",
        (NotificationKind::ForumThread, _, _) => "notifications.text.forum_thread",
        (NotificationKind::ForumReply, _, _) => "notifications.text.forum_reply",
    };
    lang.t(key)
        .replace("{actor}", actor)
        .replace("{title}", title)
        .replace("{others}", &others.to_string())
}

/// Describes each row (in the order given) in `lang`.
pub async fn describe(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    rows: &[DbNotification],
    lang: Lang,
) -> AppResult<Vec<Described>> {
    let grouped: Vec<(&DbNotification, i64)> = rows.iter().map(|r| (r, 0)).collect();
    describe_grouped(ctx, conn, &grouped, lang).await
}

/// Describes rows that each stand for a group: `others` is how many other actors did the
/// same thing (likes and boosts of one object).
pub async fn describe_grouped(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    rows: &[(&DbNotification, i64)],
    lang: Lang,
) -> AppResult<Vec<Described>> {
    let plain: Vec<&DbNotification> = rows.iter().map(|(r, _)| *r).collect();
    let loaded = load(conn, &plain).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (row, others) in rows {
        let Some(kind) = NotificationKind::parse(&row.kind) else {
            // A type this version does not know (written by a newer one): not shown.
            continue;
        };
        let actor = row.actor_id.and_then(|id| loaded.actors.get(&id));
        let actor_pair = actor.map(|a| {
            let name = if a.name.trim().is_empty() {
                a.username.clone()
            } else {
                a.name.clone()
            };
            (name, actor_profile(ctx, a))
        });
        let post = row.post_id.and_then(|id| loaded.posts.get(&id));
        let comment = row.comment_id.and_then(|id| loaded.comments.get(&id));
        let title = post
            .map(|p| p.title.trim().to_string())
            .filter(|t| !t.is_empty());
        let report = row.report_id.and_then(|id| loaded.reports.get(&id));
        let action = row
            .moderation_action_id
            .and_then(|id| loaded.actions.get(&id));
        // Moderation: the "title" is the reason of the report, or what was decided.
        let moderation_title = match kind {
            NotificationKind::Report => report
                .and_then(|r| crate::service::moderation::Reason::parse(&r.reason))
                .map(|r| lang.t(r.label_key()).to_string()),
            NotificationKind::ReportOutcome => report
                .and_then(|r| r.resolution.as_deref())
                .and_then(crate::service::moderation::ActionKind::parse)
                .map(|a| lang.t(a.label_key()).to_string()),
            NotificationKind::ModerationDecision | NotificationKind::Appeal => action
                .and_then(|a| crate::service::moderation::ActionKind::parse(&a.action))
                .map(|a| lang.t(a.label_key()).to_string()),
            NotificationKind::LoanRequest | NotificationKind::LoanAnswer => row
                .loan_request_id
                .and_then(|id| loaded.loans.get(&id))
                .map(|l| l.title.clone()),
            _ => None,
        };
        let title = moderation_title.or(title);
        // Workspaces: the "title" is the workspace's name.
        let workspace = match row.workspace_id {
            Some(id) => crate::db::workspaces::by_id(conn, id).await?,
            None => None,
        };
        let title = workspace.as_ref().map(|w| w.name.clone()).or(title);
        let shown_title = title.clone().unwrap_or_else(|| {
            lang.t(
                if post.is_some_and(|p| p.category == crate::db::posts::CATEGORY_ANNOUNCEMENT) {
                    "notifications.untitled_announcement"
                } else {
                    "notifications.untitled_post"
                },
            )
            .to_string()
        });
        // Replies: "on a comment" when the reply answers a comment rather than the post.
        // Mentions and likes: "on a comment" when the comment is the object.
        let on_comment = match kind {
            NotificationKind::Reply => comment.is_some_and(|c| c.parent_id.is_some()),
            NotificationKind::Mention | NotificationKind::Like => comment.is_some(),
            // The sentence of an answer: declined rather than accepted.
            NotificationKind::LoanAnswer => row
                .loan_request_id
                .and_then(|id| loaded.loans.get(&id))
                .is_some_and(|l| l.state != "accepted"),
            _ => false,
        };
        let actor_name = actor_pair
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| lang.t("notifications.someone").to_string());
        let mut text = sentence(lang, kind, &actor_name, &shown_title, on_comment, *others);
        // A venue's follower: its managers read which venue.
        if matches!(
            kind,
            NotificationKind::Follow | NotificationKind::FollowRequest
        ) && let Some(venue_id) = row.venue_id
            && let Some(venue) = crate::db::venues::by_id(conn, venue_id).await?
        {
            text = lang
                .t("notifications.text.follow_venue")
                .replace("{actor}", &actor_name)
                .replace("{title}", &venue.name);
        }
        let object_url = match kind {
            NotificationKind::Follow | NotificationKind::FollowRequest => {
                actor_pair.as_ref().map(|(_, u)| u.clone())
            }
            NotificationKind::Report => row
                .report_id
                .map(|id| ctx.urls.absolute(&crate::urls::admin_report_path(id))),
            // An appeal is answered from the decision's page.
            NotificationKind::Appeal => row
                .moderation_action_id
                .map(|id| ctx.urls.absolute(&crate::urls::decision_path(id)))
                .or_else(|| {
                    row.report_id
                        .map(|id| ctx.urls.absolute(&crate::urls::admin_report_path(id)))
                }),
            NotificationKind::ModerationDecision => row
                .moderation_action_id
                .map(|id| ctx.urls.absolute(&crate::urls::decision_path(id))),
            NotificationKind::ReportOutcome => None,
            NotificationKind::LoanRequest | NotificationKind::LoanAnswer => {
                Some(ctx.urls.absolute(crate::urls::LOAN_REQUESTS_PATH))
            }
            // A new project: the list of open projects (its page is for members only).
            NotificationKind::Project => Some(ctx.urls.absolute("/espaces")),
            NotificationKind::WorkspaceMention if workspace.is_some() => {
                workspace.as_ref().map(|w| {
                    let page = crate::urls::workspace_page(&w.id, "discussion");
                    match row.workspace_message_id {
                        Some(m) => ctx.urls.absolute(&format!("{page}#m-{m}")),
                        None => ctx.urls.absolute(&page),
                    }
                })
            }
            _ if workspace.is_some() => workspace.as_ref().map(|w| {
                let section = match kind {
                    NotificationKind::WorkspaceMention => "discussion",
                    NotificationKind::WorkspaceDocument => "documents",
                    NotificationKind::WorkspaceMeeting => "reunions",
                    NotificationKind::WorkspaceJoinRequest => "membres",
                    _ => "",
                };
                ctx.urls
                    .absolute(&crate::urls::workspace_page(&w.id, section))
            }),
            _ => match (row.comment_id, post) {
                (Some(id), _) if comment.is_some() => {
                    Some(ctx.urls.absolute(&format!("/comments/{id}")))
                }
                (_, Some(p)) => Some(post_page(ctx, p)),
                _ => row.object_ap_id.clone(),
            },
        };
        out.push(Described {
            id: row.id,
            kind,
            created_at: row.created_at,
            read: row.read_at.is_some(),
            actor: actor_pair,
            object_url,
            title,
            others: *others,
            text,
        });
    }
    Ok(out)
}

/// The language of a member's mails: theirs, else the instance's.
pub fn recipient_lang(ctx: &AppContext, r: &MailRecipient) -> Lang {
    ctx.lang_or_default(r.language.as_deref())
}

/// The members of `rows` who may receive mail (see `Recipients`), and their
/// rows grouped by the member's language, so each language is rendered once over all its rows
/// (instant mails and digests alike).
pub async fn by_recipient_language<'a>(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    who: db::notifications::Recipients,
    rows: impl IntoIterator<Item = &'a DbNotification>,
) -> AppResult<(
    HashMap<i64, MailRecipient>,
    Vec<(Lang, Vec<DbNotification>)>,
)> {
    let rows: Vec<&DbNotification> = rows.into_iter().collect();
    let mut account_ids: Vec<i64> = rows.iter().map(|r| r.account_id).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let recipients: HashMap<i64, MailRecipient> =
        db::notifications::mail_recipients(conn, &account_ids, who)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    let mut by_lang: Vec<(Lang, Vec<DbNotification>)> = Vec::new();
    for row in rows {
        let Some(r) = recipients.get(&row.account_id) else {
            continue;
        };
        let lang = recipient_lang(ctx, r);
        match by_lang.iter_mut().find(|(l, _)| *l == lang) {
            Some((_, rows)) => rows.push(row.clone()),
            None => by_lang.push((lang, vec![row.clone()])),
        }
    }
    Ok((recipients, by_lang))
}

/// Queues one mail for each row recorded with the `instant` delivery, in the caller's
/// transaction: the sentence as subject, a link to the object and a one-click unsubscribe
/// link that stops that type (or that alert, for announcements). Members whose address is
/// not confirmed yet, or who are suspended, get none.
pub async fn queue_instant_mails(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    rows: &[DbNotification],
) -> AppResult<()> {
    let (statements, instant): (Vec<&DbNotification>, Vec<&DbNotification>) = rows
        .iter()
        .filter(|r| r.delivery == Delivery::Instant.as_str())
        .partition(|r| r.kind == NotificationKind::ModerationDecision.as_str());
    // A statement of reasons has its own mail (the whole statement, no unsubscribe link).
    crate::service::moderation::decisions::queue_statement_mails(ctx, conn, &statements).await?;
    if instant.is_empty() {
        return Ok(());
    }
    let (recipients, by_lang) =
        by_recipient_language(ctx, conn, db::notifications::Recipients::Active, instant).await?;
    let mut scopes = Vec::new();
    let mut pending = Vec::new();
    for (lang, rows) in by_lang {
        let by_id: HashMap<i64, &DbNotification> = rows.iter().map(|r| (r.id, r)).collect();
        for d in describe(ctx, conn, &rows, lang).await? {
            let Some(row) = by_id.get(&d.id) else {
                continue;
            };
            let scope = match (d.kind, row.alert_id) {
                (NotificationKind::Announcement, Some(alert)) => Scope::Alert(alert),
                (kind, _) => Scope::Kind(kind),
            };
            scopes.push((row.account_id, scope));
            pending.push((lang, row.account_id, d));
        }
    }
    let links = unsubscribe::links(ctx, conn, &scopes).await?;
    let settings_url = ctx.urls.absolute(super::SETTINGS_PATH);
    let instance = ctx.config.instance.name.as_str();
    let mut mails = Vec::with_capacity(pending.len());
    for ((lang, account_id, d), unsubscribe_url) in pending.into_iter().zip(links) {
        let Some(r) = recipients.get(&account_id) else {
            continue;
        };
        let name = if r.display_name.trim().is_empty() {
            r.username.as_str()
        } else {
            r.display_name.as_str()
        };
        let body = MailBody {
            greeting: lang
                .t("notifications.mail.greeting")
                .replace("{name}", name),
            paragraphs: vec![d.text.clone()],
            action: d
                .object_url
                .clone()
                .map(|u| (lang.t("notifications.mail.open").to_string(), u)),
            footer: vec![
                lang.t("notifications.mail.why")
                    .replace("{instance}", instance),
                format!(
                    "{} {unsubscribe_url}",
                    lang.t("notifications.mail.unsubscribe")
                ),
                format!("{} {settings_url}", lang.t("notifications.mail.settings")),
            ],
        };
        let (text, html) = body.render(lang, instance);
        mails.push(OutgoingMail {
            account_id: Some(account_id),
            to: r.email.clone(),
            lang,
            category: MailCategory::Notification,
            subject: d.text,
            text,
            html,
            unsubscribe_url: Some(unsubscribe_url),
        });
    }
    mail::enqueue_many(conn, ctx, mails).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sentence_per_type_in_both_languages() {
        let s = |lang, kind, on_comment, others| {
            sentence(lang, kind, "Léa", "Titre", on_comment, others)
        };
        assert_eq!(
            s(Lang::Fr, NotificationKind::Reply, false, 0),
            "Léa a répondu à « Titre »"
        );
        assert_eq!(
            s(Lang::Fr, NotificationKind::Like, false, 4),
            "Léa et 4 autres ont aimé « Titre »"
        );
        assert_eq!(
            s(Lang::Fr, NotificationKind::Like, true, 1),
            "Léa et une autre personne ont aimé votre commentaire sur « Titre »"
        );
        assert_eq!(
            s(Lang::En, NotificationKind::Boost, false, 4),
            "Léa and 4 others boosted “Titre”"
        );
        assert_eq!(
            s(Lang::Fr, NotificationKind::Announcement, false, 0),
            "Nouvelle annonce : Titre"
        );
        assert_eq!(
            s(Lang::En, NotificationKind::FollowRequest, false, 0),
            "Léa asks to follow you"
        );
    }
}
