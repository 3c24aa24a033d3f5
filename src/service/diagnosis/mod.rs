//! Territorial diagnosis (issue 14): figures of the territory's cultural life by commune,
//! EPCI, kind and discipline, for the staff dashboard and the public page.
//!
//! This first slice is the domain only, three parts:
//! - here, the filters ([`Filters`]: a [`Period`], a discipline, a directory kind, an EPCI)
//!   read from query-string values by [`parse_filters`] (an unknown value is a 400 naming
//!   its field; a period ending before it starts says so), the [`Audience`], and the one
//!   visibility rule of who is counted ([`visibility`]);
//! - [`figures`]: one SQL aggregate (`GROUP BY`, no per-row loop) per figure, returning plain
//!   tables of exact counts ([`Table`], [`Series`], [`ClaimRate`]): members by kind,
//!   discipline, commune and EPCI (per 10 000 inhabitants), venues and capacity by EPCI,
//!   offers and loans, workspaces opened and their partners, announcements and forum
//!   activity by month, federation reach (followers and deliveries by server), claim rate;
//! - [`suppress`]: the only place that turns exact counts into what a public reader may see
//!   (cells below 5 shown as `< 5`, complementary suppression, rounding to 5 — see there).
//!
//! **Who is counted.** Staff figures count everything that exists: members hidden from the
//! directory, suspended accounts, blocked actors' contributions, unlisted (private)
//! workspaces. Public figures count what the public can already see: members listed in the
//! directory and not sanctioned, venues neither hidden nor deleted nor owned by a suspended
//! account, listed workspaces only (their existence, never their content), content neither
//! hidden by moderation nor written by a sanctioned actor. No figure ever carries a name of a
//! member, a workspace or a piece of content: rows are labelled by kind, discipline, commune,
//! EPCI, category or month.
//!
//! **Period.** Stock figures (members, venues, offers, listed entries) are counted as they
//! stand at the end of the period (created before it ends); flow figures (loans, workspaces
//! opened, announcements, threads, replies, claims) are those dated inside it.
//!
//! **Filters.** `kind` and `discipline` apply to the member, or for an object without them
//! (offer, loan, forum thread) to the account that owns or wrote it; `discipline` applies to
//! the object's own disciplines when it has some (venue, workspace, announcement), compared
//! without case or accents. `epci` applies to the commune of the member or the object.
//!
//! **Next slice** (not here): the pages `/admin/diagnostic` and `/diagnostic`, the
//! `GET /api/v1/stats` answer (DESIGN §6), SVG charts, CSV/JSON exports with a data
//! dictionary (`"<5"` in JSON from [`suppress::Cell`]), the README section, and the
//! benchmark. The pages call [`parse_filters`], then the functions of [`figures`] with the
//! reader's [`Audience`], then [`suppress::table`] / [`suppress::series`] /
//! [`suppress::cell`] on every figure before showing it; labels of kinds, categories and
//! announcement kinds are codes to translate.

pub mod export;
pub mod figures;
pub mod report;
pub mod suppress;

use crate::{
    error::{AppError, AppResult, ErrorKind, FieldError},
    service::directory::DirectoryKind,
};
use chrono::{Datelike, Months, NaiveDate};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Who reads the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone: the public page, the public API and exports. Small cells are suppressed.
    Public,
    /// The département's team (staff and admins): exact counts of everything.
    Staff,
}

/// The time span the figures cover: `[start, end)` in days (UTC). A custom period open at
/// one end has `NaiveDate::MIN` or `NaiveDate::MAX` there (no condition is written for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Since the beginning (no filter given).
    All,
    /// `[start, end)`.
    Range { start: NaiveDate, end: NaiveDate },
}

impl Period {
    /// First day included, if bounded.
    pub fn start(self) -> Option<NaiveDate> {
        match self {
            Period::All => None,
            Period::Range { start, .. } => Some(start),
        }
    }

    /// First day no longer included, if bounded.
    pub fn end(self) -> Option<NaiveDate> {
        match self {
            Period::All => None,
            Period::Range { end, .. } => Some(end),
        }
    }
}

/// Validated filters of every figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub period: Period,
    /// A discipline as typed (compared without case or accents).
    pub discipline: Option<String>,
    pub kind: Option<DirectoryKind>,
    /// An EPCI's SIREN code, known in the `epcis` table.
    pub epci: Option<String>,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            period: Period::All,
            discipline: None,
            kind: None,
            epci: None,
        }
    }
}

/// The filters as they come from a query string (`?period=&from=&to=&discipline=&kind=&epci=`).
///
/// `period` is `month` (`from` = `YYYY-MM`), `quarter` (`from` = `YYYY-Qn` or `YYYY-Tn`),
/// `year` (`from` = `YYYY`) or `custom` (`from` and `to` = `YYYY-MM-DD`, both included). Without
/// `period`, a `from` or `to` alone means `custom` with the other end open; nothing at all
/// means since the beginning.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct RawFilters {
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub discipline: Option<String>,
    pub kind: Option<String>,
    pub epci: Option<String>,
}

/// Longest discipline accepted as a filter.
const MAX_DISCIPLINE: usize = 100;

/// Reads and checks `raw`; every bad field is reported at once, as a 400 naming it.
pub async fn parse_filters(conn: &mut AsyncPgConnection, raw: &RawFilters) -> AppResult<Filters> {
    let mut errors = Vec::new();
    let mut error = |field: &str, key: &'static str| {
        errors.push(FieldError {
            field: field.to_string(),
            message_key: key,
        })
    };
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };

    let period = match parse_period(
        trimmed(&raw.period).as_deref(),
        trimmed(&raw.from).as_deref(),
        trimmed(&raw.to).as_deref(),
    ) {
        Ok(p) => Some(p),
        Err(e) => {
            error(e.0, e.1);
            None
        }
    };
    let kind = match trimmed(&raw.kind) {
        None => None,
        Some(k) => match DirectoryKind::ALL.iter().copied().find(|x| x.as_str() == k) {
            Some(k) => Some(k),
            None => {
                error("kind", "field.directory_kind.unknown");
                None
            }
        },
    };
    let discipline = trimmed(&raw.discipline);
    if discipline
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DISCIPLINE)
    {
        error("discipline", "field.discipline.too_long");
    }
    let epci = trimmed(&raw.epci);
    if let Some(code) = &epci {
        use crate::db::schema::epcis;
        let known: i64 = epcis::table
            .filter(epcis::code.eq(code))
            .count()
            .get_result(conn)
            .await?;
        if known == 0 {
            error("epci", "field.epci.unknown");
        }
    }
    if !errors.is_empty() {
        return Err(bad_request(errors));
    }
    Ok(Filters {
        period: period.unwrap_or(Period::All),
        discipline,
        kind,
        epci,
    })
}

/// A 400 naming the fields (an unreadable filter, not a rule broken by a form).
fn bad_request(fields: Vec<FieldError>) -> AppError {
    AppError {
        kind: ErrorKind::BadRequest,
        ..AppError::fields(fields)
    }
}

/// The period of `period`, `from`, `to`, or the field at fault with its message key.
pub fn parse_period(
    period: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Period, (&'static str, &'static str)> {
    let invalid_from = ("from", "field.period_from.invalid");
    let invalid_to = ("to", "field.period_to.invalid");
    match period {
        None if from.is_none() && to.is_none() => Ok(Period::All),
        None | Some("custom") => {
            let start = from
                .map(|f| NaiveDate::parse_from_str(f, "%Y-%m-%d").map_err(|_| invalid_from))
                .transpose()?;
            let last = to
                .map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| invalid_to))
                .transpose()?;
            if let (Some(s), Some(l)) = (start, last)
                && l < s
            {
                return Err(("to", "field.period.end_before_start"));
            }
            Ok(Period::Range {
                start: start.unwrap_or(NaiveDate::MIN),
                end: last.and_then(|l| l.succ_opt()).unwrap_or(NaiveDate::MAX),
            })
        }
        Some(p @ ("month" | "quarter" | "year")) => {
            let from = from.ok_or(("from", "field.required"))?;
            let (start, months) = match p {
                "month" => (
                    NaiveDate::parse_from_str(&format!("{from}-01"), "%Y-%m-%d")
                        .map_err(|_| invalid_from)?,
                    1,
                ),
                "quarter" => {
                    let (y, q) = from
                        .split_once(['-'])
                        .and_then(|(y, q)| {
                            let q = q.strip_prefix(['Q', 'q', 'T', 't'])?;
                            Some((y.parse::<i32>().ok()?, q.parse::<u32>().ok()?))
                        })
                        .filter(|(_, q)| (1..=4).contains(q))
                        .ok_or(invalid_from)?;
                    (
                        NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1).ok_or(invalid_from)?,
                        3,
                    )
                }
                _ => (
                    from.parse::<i32>()
                        .ok()
                        .filter(|y| (1000..=9999).contains(y))
                        .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1))
                        .ok_or(invalid_from)?,
                    12,
                ),
            };
            if to.is_some() {
                return Err(("to", "field.period_to.not_custom"));
            }
            let end = start
                .checked_add_months(Months::new(months))
                .ok_or(invalid_from)?;
            debug_assert_eq!(end.day(), 1);
            Ok(Period::Range { start, end })
        }
        Some(_) => Err(("period", "field.period.unknown")),
    }
}

/// The visibility rule: SQL conditions saying which rows `audience` may count. Staff count
/// everything ("TRUE"); the public only what is already public.
pub mod visibility {
    use super::Audience;

    /// Account `a` (alias) is counted as a member: listed in the directory, not suspended,
    /// its actor neither blocked nor deleted.
    pub fn member(audience: Audience, a: &str) -> String {
        match audience {
            Audience::Staff => "TRUE".into(),
            Audience::Public => format!(
                "(NOT {a}.directory_hidden AND {a}.suspended_at IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM actors va_ WHERE va_.id = {a}.actor_id \
                  AND (va_.blocked_at IS NOT NULL OR va_.deleted_at IS NOT NULL)))"
            ),
        }
    }

    /// Actor `column` is not sanctioned (blocked, or its account suspended) nor deleted.
    pub fn actor(audience: Audience, column: &str) -> String {
        match audience {
            Audience::Staff => "TRUE".into(),
            Audience::Public => format!(
                "NOT EXISTS (SELECT 1 FROM actors vx_ LEFT JOIN accounts vy_ ON vy_.actor_id = vx_.id \
                 WHERE vx_.id = {column} AND (vx_.blocked_at IS NOT NULL OR vx_.deleted_at IS NOT NULL \
                 OR vy_.suspended_at IS NOT NULL))"
            ),
        }
    }

    /// Workspace `w` is counted: listed ones only for the public.
    pub fn workspace(audience: Audience, w: &str) -> String {
        match audience {
            Audience::Staff => "TRUE".into(),
            Audience::Public => format!("{w}.listed"),
        }
    }

    /// Content (post, comment, venue, offer) `alias` hidden by the moderators is not counted
    /// publicly.
    pub fn not_hidden(audience: Audience, alias: &str) -> String {
        match audience {
            Audience::Staff => "TRUE".into(),
            Audience::Public => format!("{alias}.hidden_at IS NULL"),
        }
    }
}

/// One line of a table: what it counts (`code`, `label`), how many, and per 10 000 inhabitants
/// when the population of its territory is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// A stable code (a kind, an INSEE or SIREN code, a normalised discipline, a category).
    pub code: String,
    /// What people read (a commune's or EPCI's name, the discipline as typed…).
    pub label: String,
    pub count: i64,
    /// Inhabitants of the row's territory (communes, EPCIs), when known.
    pub population: Option<i64>,
}

impl Row {
    /// `count` per 10 000 inhabitants, when the population is known and not zero.
    pub fn rate_per_10k(&self) -> Option<f64> {
        per_10k(self.count, self.population)
    }
}

/// `count` per 10 000 inhabitants of `population`.
pub fn per_10k(count: i64, population: Option<i64>) -> Option<f64> {
    population
        .filter(|p| *p > 0)
        .map(|p| count as f64 * 10_000.0 / p as f64)
}

/// A table of counts: its rows (largest first, then by code) and the total of what it
/// counts. The total is not always the sum of the rows (a member has several disciplines).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub rows: Vec<Row>,
    pub total: i64,
}

impl Table {
    /// The row of `code`, if any.
    pub fn get(&self, code: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.code == code)
    }

    /// The count of `code` (0 when absent).
    pub fn count(&self, code: &str) -> i64 {
        self.get(code).map_or(0, |r| r.count)
    }
}

/// Counts by month (`YYYY-MM`) and by a code (an announcement kind, `threads`/`replies`…).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// (month, code, count), by month then code.
    pub points: Vec<(String, String, i64)>,
}

impl Series {
    /// The count of `code` in `month` (0 when absent).
    pub fn count(&self, month: &str, code: &str) -> i64 {
        self.points
            .iter()
            .find(|(m, c, _)| m == month && c == code)
            .map_or(0, |p| p.2)
    }
}

/// Entries the département listed, how many were claimed (taken over by an account), and
/// the claims by month.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClaimRate {
    pub listed: i64,
    pub claimed: i64,
    /// Claims by month (`YYYY-MM`), in the period.
    pub by_month: Vec<(String, i64)>,
}

impl ClaimRate {
    /// Claimed out of listed, between 0 and 1 (None when nothing is listed).
    pub fn rate(&self) -> Option<f64> {
        (self.listed > 0).then(|| self.claimed as f64 / self.listed as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn periods_are_read() {
        assert_eq!(parse_period(None, None, None), Ok(Period::All));
        assert_eq!(
            parse_period(Some("month"), Some("2026-02"), None),
            Ok(Period::Range {
                start: d("2026-02-01"),
                end: d("2026-03-01")
            })
        );
        assert_eq!(
            parse_period(Some("quarter"), Some("2026-T4"), None),
            Ok(Period::Range {
                start: d("2026-10-01"),
                end: d("2027-01-01")
            })
        );
        assert_eq!(
            parse_period(Some("year"), Some("2025"), None),
            Ok(Period::Range {
                start: d("2025-01-01"),
                end: d("2026-01-01")
            })
        );
        assert_eq!(
            parse_period(Some("custom"), Some("2026-01-10"), Some("2026-01-10")),
            Ok(Period::Range {
                start: d("2026-01-10"),
                end: d("2026-01-11")
            })
        );
    }

    #[test]
    fn bad_periods_name_their_field() {
        assert_eq!(
            parse_period(Some("week"), None, None),
            Err(("period", "field.period.unknown"))
        );
        assert_eq!(
            parse_period(Some("custom"), Some("2026-03-01"), Some("2026-02-01")),
            Err(("to", "field.period.end_before_start"))
        );
        assert_eq!(
            parse_period(Some("quarter"), Some("2026-Q5"), None)
                .expect_err("an error")
                .0,
            "from"
        );
        assert_eq!(
            parse_period(Some("month"), Some("2026-13"), None)
                .expect_err("an error")
                .0,
            "from"
        );
        assert_eq!(
            parse_period(None, None, Some("demain"))
                .expect_err("an error")
                .0,
            "to"
        );
    }
}
