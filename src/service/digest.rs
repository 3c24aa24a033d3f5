//! The daily and weekly digest mails: one scheduled task (spawned by `serve`, stopped with
//! it) sends, after 07:00 Paris time, one mail per member with every item waiting for the
//! digest (notifications recorded with the `daily` or `weekly` delivery and not yet carried
//! by one) — every day for the daily digest, on Mondays for the weekly one.
//!
//! It survives restarts and several nodes:
//! - the period a run completed (`2026-12-04`, `2026-W49`) is recorded in `scheduled_runs`:
//!   a node started later in the same period does not run it again, and a node that was
//!   down at 07:00 runs it as soon as it is back (nothing is skipped: items wait until a
//!   digest carries them);
//! - a run holds an advisory lock, so two nodes never build the same digest at once;
//! - members are handled in batches; in each batch's transaction the mails are queued and
//!   the items marked `digested_at`, so a run interrupted half-way resumes with the members
//!   not served yet and nobody gets the same item twice.
//!
//! Paris time is computed with the European summer-time rule (UTC+2 from the last Sunday of
//! March 01:00 UTC to the last Sunday of October 01:00 UTC, UTC+1 otherwise) rather than a
//! time-zone database: it is the only zone the job needs.

use crate::{
    context::AppContext,
    db::{self, notifications::MailRecipient},
    error::{AppError, AppResult},
    i18n::Lang,
    service::{
        mail::{
            self, MailCategory, OutgoingMail,
            unsubscribe::{self, Scope},
        },
        notifications::{self, Described},
    },
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use diesel_async::AsyncConnection;
use std::collections::HashMap;
use tokio::{sync::watch, task::JoinHandle};

/// Hour (Paris time) after which the day's digests go out.
pub const SEND_HOUR: u32 = 7;
/// Members per transaction.
pub const BATCH: i64 = 500;
/// How often the task looks whether a digest is due.
const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Weekly,
}

impl Period {
    pub const ALL: [Period; 2] = [Period::Daily, Period::Weekly];

    /// The `scheduled_runs` row.
    pub fn job(self) -> &'static str {
        match self {
            Period::Daily => "digest_daily",
            Period::Weekly => "digest_weekly",
        }
    }

    /// The `notifications.delivery` it carries.
    pub fn delivery(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Weekly => "weekly",
        }
    }

    /// The period `now` falls in: the Paris date, or its ISO week.
    pub fn key(self, now: DateTime<Utc>) -> String {
        let local = paris_time(now);
        match self {
            Period::Daily => local.format("%Y-%m-%d").to_string(),
            Period::Weekly => {
                let week = local.date().iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
        }
    }

    /// Whether the period's digest may go out at `now`: after 07:00 Paris time, and for the
    /// weekly one not before Monday 07:00 (a node down on Monday sends it later that week).
    pub fn due(self, now: DateTime<Utc>) -> bool {
        let local = paris_time(now);
        let after_hour = local.hour() >= SEND_HOUR;
        match self {
            Period::Daily => after_hour,
            Period::Weekly => local.weekday() != Weekday::Mon || after_hour,
        }
    }
}

/// The last Sunday of a month, at 01:00 UTC (when European summer time starts or ends).
fn last_sunday_0100_utc(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_of_next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    let sunday = last - Duration::days(i64::from(back));
    Utc.from_local_datetime(&sunday.and_hms_opt(1, 0, 0)?)
        .single()
}

/// Paris wall-clock time of an instant.
pub fn paris_time(now: DateTime<Utc>) -> chrono::NaiveDateTime {
    let year = now.year();
    let summer = match (
        last_sunday_0100_utc(year, 3),
        last_sunday_0100_utc(year, 10),
    ) {
        (Some(start), Some(end)) => now >= start && now < end,
        _ => false,
    };
    let offset = if summer { 2 } else { 1 };
    (now + Duration::hours(offset)).naive_utc()
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestOutcome {
    /// The period was done before.
    AlreadyDone,
    /// Another node is running it.
    Busy,
    /// Done now: members served (with or without a mail), mails queued, items carried.
    Done {
        members: usize,
        mails: usize,
        items: usize,
    },
}

/// Builds the digest of `period` for the period `now` falls in, unless it was done already
/// or another node is at it. Records the period as done when every member is served.
pub async fn run_digest(
    ctx: &AppContext,
    period: Period,
    now: DateTime<Utc>,
) -> AppResult<DigestOutcome> {
    let key = period.key(now);
    let job = period.job();
    // One connection for the whole run: the advisory lock belongs to it.
    let mut conn = ctx.conn().await?;
    if !db::digests::try_lock(&mut conn, job).await? {
        return Ok(DigestOutcome::Busy);
    }
    let result: AppResult<DigestOutcome> = async {
        if db::digests::last_period(&mut conn, job).await?.as_deref() >= Some(key.as_str()) {
            return Ok(DigestOutcome::AlreadyDone);
        }
        let (mut members, mut mails, mut items) = (0, 0, 0);
        loop {
            let done = conn
                .transaction::<(usize, usize, usize), AppError, _>(async |conn| {
                    let batch =
                        db::digests::members_with_pending(conn, period.delivery(), now, BATCH)
                            .await?;
                    if batch.is_empty() {
                        return Ok((0, 0, 0));
                    }
                    let (m, i) = digest_batch(ctx, conn, period, &batch, now).await?;
                    Ok((batch.len(), m, i))
                })
                .await?;
            if done.0 == 0 {
                break;
            }
            members += done.0;
            mails += done.1;
            items += done.2;
        }
        db::digests::set_last_period(&mut conn, job, &key, Utc::now()).await?;
        Ok(DigestOutcome::Done {
            members,
            mails,
            items,
        })
    }
    .await;
    let unlocked = db::digests::unlock(&mut conn, job).await;
    let outcome = result?;
    unlocked?;
    Ok(outcome)
}

/// One batch, in the caller's transaction: queues the mails of these members and marks
/// their items. Returns (mails, items shown).
async fn digest_batch(
    ctx: &AppContext,
    conn: &mut diesel_async::AsyncPgConnection,
    period: Period,
    batch: &[i64],
    now: DateTime<Utc>,
) -> AppResult<(usize, usize)> {
    let rows = db::digests::pending_visible(conn, batch, period.delivery(), now).await?;
    let (recipients, by_lang) = notifications::by_recipient_language(
        ctx,
        conn,
        crate::db::notifications::Recipients::Active,
        &rows,
    )
    .await?;
    let mut per_member: HashMap<i64, Vec<Described>> = HashMap::new();
    let mut owner: HashMap<i64, i64> = HashMap::new();
    for (lang, rows) in &by_lang {
        owner.extend(rows.iter().map(|r| (r.id, r.account_id)));
        for d in notifications::describe(ctx, conn, rows, *lang).await? {
            if let Some(account) = owner.get(&d.id) {
                per_member.entry(*account).or_default().push(d);
            }
        }
    }
    let mut members: Vec<i64> = per_member.keys().copied().collect();
    members.sort_unstable();
    let scopes: Vec<(i64, Scope)> = members.iter().map(|m| (*m, Scope::Digest)).collect();
    let links = unsubscribe::links(ctx, conn, &scopes).await?;
    let mut mails = Vec::with_capacity(members.len());
    let mut items = 0;
    for (member, unsubscribe_url) in members.iter().zip(links) {
        let (Some(r), Some(described)) = (recipients.get(member), per_member.get(member)) else {
            continue;
        };
        items += described.len();
        mails.push(digest_mail(
            ctx,
            period,
            notifications::recipient_lang(ctx, r),
            r,
            described,
            unsubscribe_url,
        ));
    }
    let queued = mails.len();
    mail::enqueue_many(conn, ctx, mails).await?;
    db::digests::mark_digested(conn, batch, period.delivery(), now, Utc::now()).await?;
    Ok((queued, items))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One member's digest: a list of items, each linked to what it is about.
fn digest_mail(
    ctx: &AppContext,
    period: Period,
    lang: Lang,
    to: &MailRecipient,
    items: &[Described],
    unsubscribe_url: String,
) -> OutgoingMail {
    let instance = ctx.config.instance.name.as_str();
    let name = if to.display_name.trim().is_empty() {
        to.username.as_str()
    } else {
        to.display_name.as_str()
    };
    let (subject_key, intro_key) = match period {
        Period::Daily => ("digest.subject_daily", "digest.intro_daily"),
        Period::Weekly => ("digest.subject_weekly", "digest.intro_weekly"),
    };
    let subject = format!("{} ({})", lang.t(subject_key), items.len());
    let greeting = lang.t("digest.greeting").replace("{name}", name);
    let intro = lang.t(intro_key);
    let centre = ctx.urls.absolute("/notifications");
    let action = lang.t("digest.action");
    let footer = lang.t("digest.footer");
    let unsubscribe_label = lang.t("digest.unsubscribe");

    let mut text = format!("{greeting}\n\n{intro}\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;color:#1e1e1e;max-width:40em\">\n\
         <p>{}</p>\n<p>{}</p>\n<ul>\n",
        lang.code(),
        escape(&subject),
        escape(&greeting),
        escape(intro)
    );
    for item in items {
        text.push_str(&format!("- {}\n", item.text));
        match &item.object_url {
            Some(url) => {
                text.push_str(&format!("  {url}\n"));
                html.push_str(&format!(
                    "<li><a href=\"{}\" style=\"color:#1a4f8b\">{}</a></li>\n",
                    escape(url),
                    escape(&item.text)
                ));
            }
            None => html.push_str(&format!("<li>{}</li>\n", escape(&item.text))),
        }
    }
    text.push_str(&format!(
        "\n{action} :\n{centre}\n\n-- \n{instance}\n{footer}\n"
    ));
    text.push_str(&format!("{unsubscribe_label} {unsubscribe_url}\n"));
    html.push_str(&format!(
        "</ul>\n<p><a href=\"{}\" style=\"color:#1a4f8b\">{}</a></p>\n\
         <p style=\"font-size:0.875em;color:#505050\">{}</p>\n\
         <p style=\"font-size:0.875em;color:#505050\">{} <a href=\"{}\">{}</a></p>\n\
         </body></html>\n",
        escape(&centre),
        escape(action),
        escape(footer),
        escape(unsubscribe_label),
        escape(&unsubscribe_url),
        escape(&unsubscribe_url),
    ));
    OutgoingMail {
        account_id: Some(to.id),
        to: to.email.clone(),
        lang,
        category: MailCategory::Digest,
        subject,
        text,
        html,
        unsubscribe_url: Some(unsubscribe_url),
    }
}

/// Runs every period that is due and not done yet. Errors are logged; the next check
/// tries again.
pub async fn run_due(ctx: &AppContext, now: DateTime<Utc>) {
    for period in Period::ALL {
        if !period.due(now) {
            continue;
        }
        match run_digest(ctx, period, now).await {
            Ok(DigestOutcome::Done {
                members,
                mails,
                items,
            }) => tracing::info!(
                "{} digest {}: {mails} mails for {members} members, {items} items",
                period.delivery(),
                period.key(now)
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("{} digest: {}", period.delivery(), e.detail),
        }
    }
}

/// The scheduled task: checks at start and every few minutes, stops on shutdown.
pub fn spawn(ctx: &AppContext, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                break;
            }
            run_due(&ctx, Utc::now()).await;
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("date")
    }

    #[test]
    fn paris_time_follows_summer_time() {
        // Winter: UTC+1.
        assert_eq!(paris_time(at(2026, 12, 4, 6, 30)).hour(), 7);
        // Summer: UTC+2.
        assert_eq!(paris_time(at(2026, 7, 1, 6, 30)).hour(), 8);
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(paris_time(at(2026, 3, 29, 0, 59)).hour(), 1);
        assert_eq!(paris_time(at(2026, 3, 29, 1, 0)).hour(), 3);
        assert_eq!(paris_time(at(2026, 10, 25, 0, 59)).hour(), 2);
        assert_eq!(paris_time(at(2026, 10, 25, 1, 0)).hour(), 2);
    }

    #[test]
    fn periods_and_when_they_are_due() {
        // Friday 4 December 2026, 05:59 UTC = 06:59 in Paris.
        let before = at(2026, 12, 4, 5, 59);
        let after = at(2026, 12, 4, 6, 0);
        assert!(!Period::Daily.due(before));
        assert!(Period::Daily.due(after));
        assert_eq!(Period::Daily.key(after), "2026-12-04");
        // Late evening UTC is already the next day in Paris.
        assert_eq!(Period::Daily.key(at(2026, 12, 4, 23, 30)), "2026-12-05");
        assert_eq!(Period::Weekly.key(after), "2026-W49");
        // Monday 7 December: due from 07:00 Paris; any later day of the week is due.
        assert!(!Period::Weekly.due(at(2026, 12, 7, 5, 59)));
        assert!(Period::Weekly.due(at(2026, 12, 7, 6, 0)));
        assert!(Period::Weekly.due(at(2026, 12, 8, 1, 0)));
        assert_eq!(Period::Weekly.key(at(2026, 12, 7, 6, 0)), "2026-W50");
        // ISO weeks across the year end: 1 January 2027 is in 2026-W53.
        assert_eq!(Period::Weekly.key(at(2027, 1, 1, 12, 0)), "2026-W53");
    }
}
