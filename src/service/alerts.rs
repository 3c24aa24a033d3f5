//! Announcement alerts: a member saves a filter (kind, disciplines, commune — the empty filter
//! is "every new announcement"; the kind `projet` watches new listed project workspaces
//! instead, see `workspaces::manage`) and, when a matching announcement is published, gets a
//! notification and, as the alert says, a mail at once or an item in the daily or weekly
//! digest.
//!
//! Matching happens in the transaction that publishes the announcement, with one set-based
//! statement ([`record_matches`]): one notification per member however many of their alerts
//! match, never for the author, none when the member turned announcement notifications off.
//! Only local announcements are matched: they are the ones `/annonces` lists, and the only
//! ones with a kind, disciplines and a commune filled in by their author (a remote Note kept
//! for a follower carries none of them).

use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        alerts::{DbAlert, NewAlert},
        notifications::DbNotification,
        posts::DbPost,
    },
    error::{AppError, AppResult, FieldErrors},
    service::{
        communes::{self, Commune},
        notifications::{self, NotificationKind},
        profile::parse_disciplines,
        publishing::{AnnouncementKind, MAX_DISCIPLINE_CHARS, MAX_DISCIPLINES},
    },
};
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// How many alerts one member may keep: enough for every kind in a few communes, few enough
/// that matching stays cheap.
pub const MAX_ALERTS_PER_MEMBER: i64 = 50;

/// How an alert's matches reach the member besides the notification centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertMail {
    Instant,
    Daily,
    Weekly,
    /// In the centre only.
    None,
}

impl AlertMail {
    pub const ALL: [AlertMail; 4] = [
        AlertMail::Instant,
        AlertMail::Daily,
        AlertMail::Weekly,
        AlertMail::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertMail::Instant => "instant",
            AlertMail::Daily => "daily",
            AlertMail::Weekly => "weekly",
            AlertMail::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<AlertMail> {
        Self::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }

    pub fn label_key(self) -> &'static str {
        match self {
            AlertMail::Instant => "alerts.mail.instant",
            AlertMail::Daily => "alerts.mail.daily",
            AlertMail::Weekly => "alerts.mail.weekly",
            AlertMail::None => "alerts.mail.none",
        }
    }
}

/// What an alert watches: one kind of announcement, or new listed projects (workspaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    Announcement(AnnouncementKind),
    Project,
}

impl AlertKind {
    /// Every kind, in the order of the forms: the announcement kinds, then projects.
    pub fn all() -> impl Iterator<Item = AlertKind> {
        AnnouncementKind::ALL
            .into_iter()
            .map(AlertKind::Announcement)
            .chain([AlertKind::Project])
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        if s == db::alerts::PROJECT_KIND {
            Some(AlertKind::Project)
        } else {
            AnnouncementKind::parse(s).map(AlertKind::Announcement)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Announcement(k) => k.as_str(),
            AlertKind::Project => db::alerts::PROJECT_KIND,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            AlertKind::Announcement(k) => k.label_key(),
            AlertKind::Project => "alerts.kind.project",
        }
    }
}

/// A filter as typed (form or API); empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct AlertInput {
    pub kind: Option<String>,
    pub disciplines: Vec<String>,
    /// A name, "Name (88)" or an INSEE code.
    pub commune: Option<String>,
    pub mail: String,
}

/// An alert with its values resolved, for pages and the API.
#[derive(Debug, Clone)]
pub struct Alert {
    pub id: i64,
    pub kind: Option<AlertKind>,
    pub disciplines: Vec<String>,
    pub commune: Option<&'static Commune>,
    pub mail: AlertMail,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<DbAlert> for Alert {
    fn from(a: DbAlert) -> Alert {
        Alert {
            id: a.id,
            kind: a.kind.as_deref().and_then(AlertKind::parse),
            disciplines: a.disciplines,
            commune: a.commune.as_deref().and_then(communes::by_code),
            mail: AlertMail::parse(&a.mail).unwrap_or(AlertMail::None),
            created_at: a.created_at,
        }
    }
}

fn clean(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a filter; every broken rule is reported at once, each with its field. The commune
/// is read as every commune field is (`communes::parse_field`, namesakes taken in
/// `departement`).
fn check(account_id: i64, input: &AlertInput, departement: &str) -> AppResult<NewAlert> {
    let mut errors = FieldErrors::default();
    let kind = match clean(&input.kind) {
        Some(k) => match AlertKind::parse(k) {
            Some(k) => Some(k.as_str().to_string()),
            None => {
                errors.add("kind", "field.announcement_kind.unknown");
                None
            }
        },
        None => None,
    };
    let mut seen = std::collections::HashSet::new();
    let disciplines: Vec<String> = input
        .disciplines
        .iter()
        .flat_map(|d| parse_disciplines(d))
        .map(|d| d.to_lowercase())
        .filter(|d| seen.insert(d.clone()))
        .collect();
    if disciplines.len() > MAX_DISCIPLINES {
        errors.add("disciplines", "field.disciplines.too_many_alert");
    } else if disciplines
        .iter()
        .any(|d| d.chars().count() > MAX_DISCIPLINE_CHARS)
    {
        errors.add("disciplines", "field.too_long");
    }
    let commune =
        match communes::parse_field(clean(&input.commune).unwrap_or_default(), departement) {
            Ok(c) => c.map(|c| c.code.to_string()),
            Err(key) => {
                errors.add("commune", key);
                None
            }
        };
    let mail = match AlertMail::parse(&input.mail) {
        Some(m) => m,
        None => {
            errors.add("mail", "field.alert_mail.unknown");
            AlertMail::None
        }
    };
    errors.into_result()?;
    Ok(NewAlert {
        account_id,
        kind,
        disciplines,
        commune,
        mail: mail.as_str().to_string(),
    })
}

/// Whether two alerts search the same announcements (the order of disciplines aside): a
/// second one would add nothing, one notification per member being the rule.
fn same_filter(existing: &DbAlert, new: &NewAlert) -> bool {
    let sorted = |d: &[String]| {
        let mut d = d.to_vec();
        d.sort();
        d
    };
    existing.kind == new.kind
        && existing.commune == new.commune
        && sorted(&existing.disciplines) == sorted(&new.disciplines)
}

/// Saves a filter for the member; the same filter twice is refused.
pub async fn create(ctx: &AppContext, account: &DbAccount, input: &AlertInput) -> AppResult<Alert> {
    let new = check(account.id, input, &ctx.config.instance.departement)?;
    let mut conn = ctx.conn().await?;
    let alert = conn
        .transaction::<DbAlert, AppError, _>(async |conn| {
            db::alerts::lock_account(conn, account.id).await?;
            let existing = db::alerts::by_account(conn, account.id).await?;
            if existing.iter().any(|a| same_filter(a, &new)) {
                return Err(AppError::field("alerts", "field.alerts.duplicate"));
            }
            if existing.len() as i64 >= MAX_ALERTS_PER_MEMBER {
                return Err(AppError::field("alerts", "field.alerts.too_many"));
            }
            Ok(db::alerts::insert(conn, &new).await?)
        })
        .await?;
    Ok(alert.into())
}

/// The member's alerts, oldest first.
pub async fn list(ctx: &AppContext, account: &DbAccount) -> AppResult<Vec<Alert>> {
    let mut conn = ctx.conn().await?;
    Ok(db::alerts::by_account(&mut conn, account.id)
        .await?
        .into_iter()
        .map(Alert::from)
        .collect())
}

/// Deletes one of the member's alerts; someone else's, or an unknown id, is a 404. The
/// notifications it led to stay (they lose their link to the alert).
pub async fn delete(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    if db::alerts::delete_own(&mut conn, account.id, id).await? {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

/// Records, in the caller's transaction, the notifications of a newly published local
/// announcement for every member whose alerts match it. Returns the rows written (the caller
/// queues the instant mails). Anything else (a blog post, a remote post) records nothing.
pub async fn record_matches(
    conn: &mut AsyncPgConnection,
    post: &DbPost,
) -> AppResult<Vec<DbNotification>> {
    if !post.is_announcement() || !post.local || !post.is_public() {
        return Ok(Vec::new());
    }
    let disciplines: Vec<String> = post.disciplines.iter().map(|d| d.to_lowercase()).collect();
    // The commune as the publishing flow resolved it from the official list.
    let codes: Vec<String> = post.commune_code.iter().cloned().collect();
    let matched = db::alerts::record_matches(
        conn,
        &db::alerts::Announcement {
            notification_kind: NotificationKind::Announcement.as_str(),
            post_id: post.id,
            author_account_id: post.account_id,
            author_actor_id: post.author_actor_id,
            kind: post.kind.as_deref(),
            disciplines: &disciplines,
            communes: &codes,
        },
    )
    .await?;
    Ok(matched)
}

/// What publishing an announcement does for alerts, in the publishing transaction: the
/// matching members' notifications, and the mails of those who asked for them at once.
pub async fn on_published(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
) -> AppResult<Vec<DbNotification>> {
    let rows = record_matches(conn, post).await?;
    notifications::queue_instant_mails(ctx, conn, &rows).await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str, commune: &str, mail: &str) -> AlertInput {
        AlertInput {
            kind: Some(kind.into()),
            disciplines: vec!["Théâtre, danse".into(), "théâtre".into()],
            commune: Some(commune.into()),
            mail: mail.into(),
        }
    }

    #[test]
    fn a_good_filter_is_resolved() {
        let new = check(7, &input("residence", "epinal", "daily"), "88").expect("valid");
        assert_eq!(new.kind.as_deref(), Some("residence"));
        assert_eq!(new.commune.as_deref(), Some("88160"));
        assert_eq!(new.disciplines, vec!["théâtre", "danse"]);
        assert_eq!(new.mail, "daily");
        let empty = check(
            7,
            &AlertInput {
                mail: "none".into(),
                ..AlertInput::default()
            },
            "88",
        )
        .expect("the empty filter is every announcement");
        assert_eq!((empty.kind, empty.commune), (None, None));
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = check(7, &input("concert", "Atlantis", "hourly"), "88").expect_err("invalid");
        let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["kind", "commune", "mail"]);
        let err =
            check(7, &input("emploi", "Saint-Amand", "instant"), "88").expect_err("ambiguous");
        assert_eq!(err.fields[0].message_key, "field.commune.ambiguous");
        // A name shared with other départements is the configured département's.
        let new = check(7, &input("emploi", "charmes", "none"), "88").expect("valid");
        assert_eq!(new.commune.as_deref(), Some("88090"));
    }
}
