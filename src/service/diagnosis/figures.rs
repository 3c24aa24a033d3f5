//! The figures: one SQL aggregate per function (`GROUP BY`, no per-row loop), exact counts
//! for `audience` (who is counted: [`super::visibility`]); [`super::suppress`] decides what
//! the public sees of them. Tables hold only rows with a count (a kind, commune or month
//! absent from a table counts 0; a public page shows it as `< 5` like any small count).

use super::{Audience, ClaimRate, Filters, Row, Series, Table, visibility};
use crate::{
    db::bound_sql::{Param, Sql},
    error::AppResult,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Code of the row of members or objects without a known commune (or EPCI).
pub const UNKNOWN: &str = "unknown";
/// Code of the row of partners from other servers (they have no directory kind).
pub const REMOTE: &str = "remote";

/// The filters' conditions, on the shared bound-SQL builder ([`Sql`]).
impl Sql {
    /// ` AND` the account `a` has the filtered kind and discipline (none: nothing).
    fn account(&mut self, f: &Filters, a: &str) -> String {
        let mut w = String::new();
        if let Some(k) = f.kind {
            let k = self.bind(Param::Text(k.as_str().into()));
            w.push_str(&format!(" AND {a}.directory_kind = {k}"));
        }
        if let Some(d) = &f.discipline {
            w.push_str(&self.disciplines(d, &format!("{a}.disciplines")));
        }
        w
    }

    /// ` AND` one of the `column` disciplines is `d`, without case or accents.
    fn disciplines(&mut self, d: &str, column: &str) -> String {
        let d = self.bind(Param::Text(d.into()));
        format!(
            " AND EXISTS (SELECT 1 FROM unnest({column}) fd_ \
             WHERE cc_search_name(fd_) = cc_search_name({d}))"
        )
    }

    /// ` AND` the commune `column` is in the filtered EPCI.
    fn epci(&mut self, f: &Filters, column: &str) -> String {
        match &f.epci {
            None => String::new(),
            Some(e) => {
                let e = self.bind(Param::Text(e.clone()));
                format!(
                    " AND {column} IN (SELECT fc_.code FROM communes fc_ WHERE fc_.epci_code = {e})"
                )
            }
        }
    }

    /// ` AND` the timestamp `column` is before the end of the period (a stock).
    fn until_end(&mut self, f: &Filters, column: &str) -> String {
        match bound(f.period.end()) {
            None => String::new(),
            Some(end) => format!(" AND {column} < {}", self.bind(Param::Time(end))),
        }
    }

    /// ` AND` the timestamp `column` is inside the period (a flow).
    fn within(&mut self, f: &Filters, column: &str) -> String {
        let mut w = self.until_end(f, column);
        if let Some(start) = bound(f.period.start()) {
            w.push_str(&format!(
                " AND {column} >= {}",
                self.bind(Param::Time(start))
            ));
        }
        w
    }
}

/// Midnight UTC of `day`, unless it stands for an open end.
fn bound(day: Option<NaiveDate>) -> Option<DateTime<Utc>> {
    day.filter(|d| *d != NaiveDate::MIN && *d != NaiveDate::MAX)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    population: Option<i64>,
    /// Count of what the table counts, in all (the same on every row).
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Runs a statement selecting `code, label, count, population, total` into a table, the
/// largest rows first.
async fn table(conn: &mut AsyncPgConnection, sql: Sql, text: String) -> AppResult<Table> {
    let rows: Vec<CountRow> = sql
        .query(format!("{text} ORDER BY count DESC, code"))
        .load(conn)
        .await?;
    let total = rows.as_slice().first().map_or(0, |r| r.total);
    Ok(Table {
        rows: rows
            .into_iter()
            .map(|r| Row {
                code: r.code,
                label: r.label,
                count: r.count,
                population: r.population,
            })
            .collect(),
        total,
    })
}

/// The members (local accounts) in scope, as a `FROM … WHERE` over `accounts a`: counted
/// for `audience`, registered before the end of the period, of the filtered kind,
/// discipline and EPCI.
fn members_scope(sql: &mut Sql, f: &Filters, audience: Audience) -> String {
    format!(
        "FROM accounts a WHERE {}{}{}{}",
        visibility::member(audience, "a"),
        sql.until_end(f, "a.created_at"),
        sql.account(f, "a"),
        sql.epci(f, "a.commune_code"),
    )
}

/// Members by directory kind (the total is every member in scope).
pub async fn members_by_kind(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<Table> {
    let mut sql = Sql::default();
    let scope = members_scope(&mut sql, f, audience);
    let text = format!(
        "SELECT a.directory_kind AS code, a.directory_kind AS label, count(*) AS count, \
         NULL::bigint AS population, sum(count(*)) OVER ()::bigint AS total \
         {scope} GROUP BY a.directory_kind"
    );
    table(conn, sql, text).await
}

/// Members by discipline, compared without case or accents (the label is the most common
/// spelling). A member counts in each of their disciplines: the total is the number of
/// members in scope, not the sum of the rows.
pub async fn members_by_discipline(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<Table> {
    let mut sql = Sql::default();
    let scope = members_scope(&mut sql, f, audience);
    // The search form of each distinct spelling is computed once (`s`, materialized so that
    // the planner does not fold it back into a per-row expression), not once per member: it
    // is the costly part (accents, case, punctuation).
    let text = format!(
        "WITH m AS (SELECT a.id, a.disciplines {scope}), \
         d AS (SELECT DISTINCT m.id, x AS spelling FROM m, unnest(m.disciplines) x), \
         s AS MATERIALIZED (SELECT u.spelling, cc_search_name(u.spelling) AS code \
               FROM (SELECT DISTINCT spelling FROM d) u) \
         SELECT s.code, mode() WITHIN GROUP (ORDER BY d.spelling) AS label, \
                count(DISTINCT d.id) AS count, NULL::bigint AS population, \
                (SELECT count(*) FROM m) AS total \
         FROM d JOIN s ON s.spelling = d.spelling GROUP BY s.code"
    );
    table(conn, sql, text).await
}

/// Members by commune (INSEE code, official name), with the commune's population; members
/// without a commune of the list make the row [`UNKNOWN`].
pub async fn members_by_commune(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<Table> {
    let mut sql = Sql::default();
    let scope = members_scope(&mut sql, f, audience);
    let text = format!(
        "WITH m AS (SELECT a.commune_code {scope}) \
         SELECT coalesce(c.code, '{UNKNOWN}') AS code, coalesce(c.name, '') AS label, \
                count(*) AS count, c.population::bigint AS population, \
                sum(count(*)) OVER ()::bigint AS total \
         FROM m LEFT JOIN communes c ON c.code = m.commune_code \
         GROUP BY c.code, c.name, c.population"
    );
    table(conn, sql, text).await
}

/// `FROM` clause of the rows of `src` (with a commune `column`) grouped by EPCI: `g` holds
/// each EPCI code (NULL: no commune, or a commune outside any EPCI) with `aggregates` (over
/// `src`), `e` the EPCI (SIREN code and name) and `ep` its population (every commune of
/// it). Grouping first looks each EPCI and its population up once, not once per row (and
/// keeps the statement's estimated cost low enough not to be JIT-compiled).
fn epci_groups(src: &str, column: &str, aggregates: &str) -> String {
    format!(
        "FROM (SELECT c.epci_code, {aggregates} FROM {src} \
               LEFT JOIN communes c ON c.code = {column} GROUP BY c.epci_code) g \
         LEFT JOIN epcis e ON e.code = g.epci_code \
         LEFT JOIN LATERAL (SELECT sum(pc_.population)::bigint AS population FROM communes pc_ \
                            WHERE pc_.epci_code = e.code) ep ON e.code IS NOT NULL"
    )
}

/// Members by EPCI (SIREN code, name) with its population (the sum of its communes');
/// members without a commune, or in a commune outside any EPCI, make the row [`UNKNOWN`].
pub async fn members_by_epci(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<Table> {
    let mut sql = Sql::default();
    let scope = members_scope(&mut sql, f, audience);
    let text = format!(
        "WITH m AS (SELECT a.commune_code {scope}) \
         SELECT coalesce(e.code, '{UNKNOWN}') AS code, coalesce(e.name, '') AS label, \
                g.count, ep.population, sum(g.count) OVER ()::bigint AS total {from}",
        from = epci_groups("m", "m.commune_code", "count(*) AS count"),
    );
    table(conn, sql, text).await
}

/// Venues by EPCI, and their total capacity by EPCI (venues without a capacity add 0).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VenueFigures {
    pub venues: Table,
    /// Rows of the same codes, whose `count` is the sum of the capacities. A public page
    /// shows a capacity only where the venue count is shown.
    pub capacity: Table,
}

/// Venues (deleted ones never; for the public, not hidden, owner not suspended, actor not
/// blocked) created before the end of the period, by EPCI. Venues are of directory kind
/// `lieu`: another kind filter leaves none.
pub async fn venues_by_epci(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<VenueFigures> {
    let mut sql = Sql::default();
    let mut w = format!(
        "v.deleted_at IS NULL AND {} AND {} AND {}",
        visibility::not_hidden(audience, "v"),
        visibility::actor(audience, "v.actor_id"),
        visibility::actor(
            audience,
            "(SELECT o_.actor_id FROM accounts o_ WHERE o_.id = v.owner_account_id)"
        ),
    );
    w.push_str(&sql.until_end(f, "v.created_at"));
    if f.kind
        .is_some_and(|k| k != crate::service::directory::DirectoryKind::Lieu)
    {
        w.push_str(" AND FALSE");
    }
    if let Some(d) = &f.discipline {
        w.push_str(&sql.disciplines(d, "v.disciplines"));
    }
    w.push_str(&sql.epci(f, "v.commune_code"));
    #[derive(diesel::QueryableByName)]
    struct VenueRow {
        #[diesel(sql_type = Text)]
        code: String,
        #[diesel(sql_type = Text)]
        label: String,
        #[diesel(sql_type = BigInt)]
        count: i64,
        #[diesel(sql_type = BigInt)]
        capacity: i64,
        #[diesel(sql_type = Nullable<BigInt>)]
        population: Option<i64>,
    }
    let rows: Vec<VenueRow> = sql
        .query(format!(
            "WITH s AS (SELECT v.commune_code, v.capacity FROM venues v WHERE {w}) \
             SELECT coalesce(e.code, '{UNKNOWN}') AS code, coalesce(e.name, '') AS label, \
                    g.count, g.capacity, ep.population \
             {from} ORDER BY count DESC, code",
            from = epci_groups(
                "s",
                "s.commune_code",
                "count(*) AS count, coalesce(sum(s.capacity), 0)::bigint AS capacity"
            ),
        ))
        .load(conn)
        .await?;
    let mut figures = VenueFigures::default();
    for r in rows {
        let row = |count| Row {
            code: r.code.clone(),
            label: r.label.clone(),
            count,
            population: r.population,
        };
        figures.venues.total += r.count;
        figures.capacity.total += r.capacity;
        figures.venues.rows.push(row(r.count));
        figures.capacity.rows.push(row(r.capacity));
    }
    Ok(figures)
}

/// Sharing: the offers by category (standing at the end of the period, closed ones
/// included), and the loans made (requests accepted in the period) by the offer's category.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SharingFigures {
    pub offers: Table,
    pub loans: Table,
}

/// See [`SharingFigures`]. Kind and discipline filter the offer's owner; EPCI the offer's
/// commune.
pub async fn sharing(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<SharingFigures> {
    let scope = |sql: &mut Sql| {
        format!(
            "o.deleted_at IS NULL AND {} AND {}{}{}",
            visibility::not_hidden(audience, "o"),
            visibility::member(audience, "oa"),
            sql.account(f, "oa"),
            sql.epci(f, "o.commune_code"),
        )
    };
    let mut sql = Sql::default();
    let w = scope(&mut sql);
    let until = sql.until_end(f, "o.created_at");
    let offers = table(
        conn,
        sql,
        format!(
            "SELECT o.category AS code, o.category AS label, count(*) AS count, \
             NULL::bigint AS population, sum(count(*)) OVER ()::bigint AS total \
             FROM offers o JOIN accounts oa ON oa.id = o.account_id \
             WHERE {w}{until} GROUP BY o.category"
        ),
    )
    .await?;
    let mut sql = Sql::default();
    let w = scope(&mut sql);
    let within = sql.within(f, "l.decided_at");
    let loans = table(
        conn,
        sql,
        format!(
            "SELECT o.category AS code, o.category AS label, count(*) AS count, \
             NULL::bigint AS population, sum(count(*)) OVER ()::bigint AS total \
             FROM loan_requests l JOIN offers o ON o.id = l.offer_id \
             JOIN accounts oa ON oa.id = o.account_id \
             WHERE l.state = 'accepted' AND {w}{within} GROUP BY o.category"
        ),
    )
    .await?;
    Ok(SharingFigures { offers, loans })
}

/// Workspaces opened here in the period, and their partners (distinct member actors of
/// those workspaces, counted once however many they joined) by directory kind; partners
/// from other servers are [`REMOTE`]. Counts only: no name, no content.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkspaceFigures {
    pub opened: i64,
    /// By kind; `total` is the number of distinct partners.
    pub partners: Table,
}

/// See [`WorkspaceFigures`]. The public counts listed workspaces only, and partners it may
/// count as members. Discipline and EPCI filter the workspace; kind filters its creator.
pub async fn workspaces(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<WorkspaceFigures> {
    let mut sql = Sql::default();
    let mut w = format!("w.local AND {}", visibility::workspace(audience, "w"));
    w.push_str(&sql.within(f, "w.created_at"));
    if let Some(d) = &f.discipline {
        w.push_str(&sql.disciplines(d, "w.disciplines"));
    }
    w.push_str(&sql.epci(f, "w.commune_code"));
    if f.kind.is_some() {
        let k = sql.account(
            &Filters {
                discipline: None,
                ..f.clone()
            },
            "wa",
        );
        w.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM accounts wa WHERE wa.id = w.created_by_account_id{k})"
        ));
    }
    #[derive(diesel::QueryableByName)]
    struct PartnerRow {
        #[diesel(sql_type = Nullable<Text>)]
        code: Option<String>,
        #[diesel(sql_type = BigInt)]
        count: i64,
        #[diesel(sql_type = BigInt)]
        opened: i64,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    // Grouping sets: one row per kind, plus the rows of the totals (code NULL).
    let rows: Vec<PartnerRow> = sql
        .query(format!(
            "WITH ws AS (SELECT w.id FROM workspaces w WHERE {w}), \
             p AS (SELECT DISTINCT wm.actor_id, \
                          CASE WHEN pa.local THEN acc.directory_kind ELSE '{REMOTE}' END AS code \
                   FROM workspace_members wm JOIN ws ON ws.id = wm.workspace_id \
                   JOIN actors pa ON pa.id = wm.actor_id \
                   LEFT JOIN accounts acc ON acc.actor_id = pa.id \
                   WHERE pa.deleted_at IS NULL AND (pa.local = (acc.id IS NOT NULL)) \
                     AND CASE WHEN pa.local THEN {member} ELSE {remote} END) \
             SELECT p.code, count(*) AS count, (SELECT count(*) FROM ws) AS opened, \
                    (SELECT count(*) FROM p) AS total \
             FROM p GROUP BY p.code \
             UNION ALL SELECT NULL, 0, (SELECT count(*) FROM ws), 0 \
             ORDER BY count DESC, code",
            member = visibility::member(audience, "acc"),
            remote = visibility::actor(audience, "pa.id"),
        ))
        .load(conn)
        .await?;
    let mut figures = WorkspaceFigures::default();
    for r in rows {
        figures.opened = r.opened;
        if let Some(code) = r.code {
            figures.partners.total = r.total;
            figures.partners.rows.push(Row {
                label: code.clone(),
                code,
                count: r.count,
                population: None,
            });
        }
    }
    Ok(figures)
}

#[derive(diesel::QueryableByName)]
struct PointRow {
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn series(conn: &mut AsyncPgConnection, sql: Sql, text: String) -> AppResult<Series> {
    let rows: Vec<PointRow> = sql
        .query(format!("{text} ORDER BY month, code"))
        .load(conn)
        .await?;
    Ok(Series {
        points: rows
            .into_iter()
            .map(|r| (r.month, r.code, r.count))
            .collect(),
    })
}

/// `YYYY-MM` of the timestamp `column`, in UTC.
fn month(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')")
}

/// Our announcements (published, not deleted; for the public, not hidden nor by a
/// sanctioned author) by month of publication and kind. Kind filters the author's account,
/// discipline the announcement's, EPCI its commune.
pub async fn announcements_by_month(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<Series> {
    let mut sql = Sql::default();
    let mut w = format!(
        "p.category = 'announcement' AND p.local AND NOT p.draft AND p.deleted_at IS NULL \
         AND p.published_at IS NOT NULL AND {} AND {}",
        visibility::not_hidden(audience, "p"),
        visibility::actor(audience, "p.author_actor_id"),
    );
    w.push_str(&sql.within(f, "p.published_at"));
    if f.kind.is_some() {
        let k = sql.account(
            &Filters {
                discipline: None,
                ..f.clone()
            },
            "pa",
        );
        w.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM accounts pa WHERE pa.id = p.account_id{k})"
        ));
    }
    if let Some(d) = &f.discipline {
        w.push_str(&sql.disciplines(d, "p.disciplines"));
    }
    w.push_str(&sql.epci(f, "p.commune_code"));
    let m = month("p.published_at");
    series(
        conn,
        sql,
        format!(
            "SELECT {m} AS month, coalesce(p.kind, 'autre') AS code, count(*) AS count \
             FROM posts p WHERE {w} GROUP BY 1, 2"
        ),
    )
    .await
}

/// Forum activity by month: codes `threads` (threads started) and `replies` (replies
/// written), local and from other servers, not deleted; for the public, not hidden nor by
/// a sanctioned author. Kind, discipline and EPCI filter the author's account (authors from
/// other servers have none: any such filter leaves them out).
pub async fn forum_by_month(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<Series> {
    let mut sql = Sql::default();
    let author = |sql: &mut Sql, alias: &str| {
        if f.kind.is_none() && f.discipline.is_none() && f.epci.is_none() {
            return String::new();
        }
        let k = sql.account(f, "fa");
        let e = sql.epci(f, "fa.commune_code");
        format!(
            " AND EXISTS (SELECT 1 FROM accounts fa WHERE fa.actor_id = {alias}.author_actor_id{k}{e})"
        )
    };
    let mut threads = format!(
        "p.category = 'thread' AND p.deleted_at IS NULL AND p.published_at IS NOT NULL \
         AND {} AND {}",
        visibility::not_hidden(audience, "p"),
        visibility::actor(audience, "p.author_actor_id"),
    );
    threads.push_str(&sql.within(f, "p.published_at"));
    threads.push_str(&author(&mut sql, "p"));
    let mut replies = format!(
        "c.deleted_at IS NULL AND tp.deleted_at IS NULL AND {} AND {}",
        visibility::not_hidden(audience, "c"),
        visibility::actor(audience, "c.author_actor_id"),
    );
    replies.push_str(&sql.within(f, "c.published_at"));
    replies.push_str(&author(&mut sql, "c"));
    let (mp, mc) = (month("p.published_at"), month("c.published_at"));
    series(
        conn,
        sql,
        format!(
            "SELECT {mp} AS month, 'threads' AS code, count(*) AS count \
             FROM posts p JOIN forum_threads t ON t.post_id = p.id WHERE {threads} GROUP BY 1 \
             UNION ALL \
             SELECT {mc}, 'replies', count(*) \
             FROM comments c JOIN forum_threads t ON t.post_id = c.post_id \
             JOIN posts tp ON tp.id = c.post_id WHERE {replies} GROUP BY 1"
        ),
    )
    .await
}

/// The claim rate: entries the département listed before the end of the period, those of
/// them claimed by then, and the claims by month inside the period. Entries are no one's
/// account: the count is the same for every audience. Kind, discipline and EPCI filter the
/// entry.
pub async fn claim_rate(conn: &mut AsyncPgConnection, f: &Filters) -> AppResult<ClaimRate> {
    let mut sql = Sql::default();
    let mut w = String::from("TRUE");
    if let Some(k) = f.kind {
        let k = sql.bind(Param::Text(k.as_str().into()));
        w.push_str(&format!(" AND e.kind = {k}"));
    }
    if let Some(d) = &f.discipline {
        w.push_str(&sql.disciplines(d, "e.disciplines"));
    }
    w.push_str(&sql.epci(f, "e.commune_code"));
    let listed_until = sql.until_end(f, "e.created_at");
    let claimed_until = sql.until_end(f, "e.claimed_at");
    let claimed_within = sql.within(f, "e.claimed_at");
    let m = month("e.claimed_at");
    // A row for each total (tagged), then one per month with claims.
    #[derive(diesel::QueryableByName)]
    struct ClaimRow {
        #[diesel(sql_type = Text)]
        tag: String,
        #[diesel(sql_type = Nullable<Text>)]
        month: Option<String>,
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let rows: Vec<ClaimRow> = sql
        .query(format!(
            "SELECT 'listed' AS tag, NULL AS month, count(*) AS count FROM directory_entries e \
               WHERE {w}{listed_until} \
             UNION ALL SELECT 'claimed', NULL, count(*) FROM directory_entries e \
               WHERE {w} AND e.claimed_at IS NOT NULL{listed_until}{claimed_until} \
             UNION ALL SELECT 'month', {m}, count(*) FROM directory_entries e \
               WHERE {w} AND e.claimed_at IS NOT NULL{claimed_within} GROUP BY 2 \
             ORDER BY tag, month"
        ))
        .load(conn)
        .await?;
    let mut rate = ClaimRate::default();
    for r in rows {
        match (r.tag.as_str(), r.month) {
            ("listed", _) => rate.listed = r.count,
            ("claimed", _) => rate.claimed = r.count,
            (_, Some(m)) => rate.by_month.push((m, r.count)),
            (_, None) => {}
        }
    }
    Ok(rate)
}

/// Federation reach: who follows us from other servers, and what we delivered to them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReachFigures {
    /// Distinct remote actors following at least one of our actors (accepted follows made
    /// before the end of the period), by their server; `total` is every such follower.
    pub followers: Table,
    /// Deliveries that reached their inbox in the period, by server (for the public, of
    /// public activities only: workspace traffic is no one's business).
    pub deliveries: Table,
}

/// See [`ReachFigures`]. For the public, followers of members it may not count (hidden,
/// suspended) or of sanctioned actors are left out. Kind, discipline and EPCI filter the
/// followed member (our venues, workspaces, forum categories and the département's page
/// are followed too: any such filter leaves them out); deliveries are not filtered by them.
pub async fn reach(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    audience: Audience,
) -> AppResult<ReachFigures> {
    let mut sql = Sql::default();
    let mut w = format!(
        "fl.state = 'accepted' AND fr.local = false AND fe.local AND fr.deleted_at IS NULL \
         AND {} AND {}",
        visibility::actor(audience, "fr.id"),
        visibility::actor(audience, "fe.id"),
    );
    if audience == Audience::Public {
        w.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM accounts ha_ WHERE ha_.actor_id = fe.id AND NOT {})",
            visibility::member(audience, "ha_")
        ));
    }
    w.push_str(&sql.until_end(f, "fl.created_at"));
    if f.kind.is_some() || f.discipline.is_some() || f.epci.is_some() {
        let k = sql.account(f, "fa");
        let e = sql.epci(f, "fa.commune_code");
        w.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM accounts fa WHERE fa.actor_id = fe.id{k}{e})"
        ));
    }
    let followers = table(
        conn,
        sql,
        format!(
            "WITH s AS (SELECT DISTINCT fr.id, fr.domain FROM follows fl \
                        JOIN actors fr ON fr.id = fl.follower_id \
                        JOIN actors fe ON fe.id = fl.followee_id WHERE {w}) \
             SELECT s.domain AS code, s.domain AS label, count(*) AS count, \
                    NULL::bigint AS population, sum(count(*)) OVER ()::bigint AS total \
             FROM s GROUP BY s.domain"
        ),
    )
    .await?;
    let mut sql = Sql::default();
    let mut w = String::from("d.delivered_at IS NOT NULL");
    if audience == Audience::Public {
        w.push_str(" AND act.public");
    }
    w.push_str(&sql.within(f, "d.delivered_at"));
    let deliveries = table(
        conn,
        sql,
        format!(
            "SELECT d.domain AS code, d.domain AS label, count(*) AS count, \
             NULL::bigint AS population, sum(count(*)) OVER ()::bigint AS total \
             FROM deliveries d JOIN activities act ON act.id = d.activity_id \
             WHERE {w} GROUP BY d.domain"
        ),
    )
    .await?;
    Ok(ReachFigures {
        followers,
        deliveries,
    })
}

/// The claim rate month by month: for each month of `months` (`YYYY-MM`, ascending), the
/// entries listed and those of them claimed by the end of that month. Same filters as
/// [`claim_rate`]; one statement (a `generate_series` of months joined to the entries).
pub async fn claim_history(
    conn: &mut AsyncPgConnection,
    f: &Filters,
    months: &[String],
) -> AppResult<Vec<(String, i64, i64)>> {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(Vec::new());
    };
    let mut sql = Sql::default();
    let mut w = String::from("TRUE");
    if let Some(k) = f.kind {
        let k = sql.bind(Param::Text(k.as_str().into()));
        w.push_str(&format!(" AND e.kind = {k}"));
    }
    if let Some(d) = &f.discipline {
        w.push_str(&sql.disciplines(d, "e.disciplines"));
    }
    w.push_str(&sql.epci(f, "e.commune_code"));
    let first = sql.bind(Param::Text(format!("{first}-01")));
    let last = sql.bind(Param::Text(format!("{last}-01")));
    #[derive(diesel::QueryableByName)]
    struct HistoryRow {
        #[diesel(sql_type = Text)]
        month: String,
        #[diesel(sql_type = BigInt)]
        listed: i64,
        #[diesel(sql_type = BigInt)]
        claimed: i64,
    }
    let rows: Vec<HistoryRow> = sql
        .query(format!(
            "WITH m AS (SELECT gs AS start, gs + interval '1 month' AS next \
                        FROM generate_series({first}::date::timestamp, {last}::date::timestamp, \
                                             interval '1 month') gs), \
             e AS (SELECT e.created_at, e.claimed_at FROM directory_entries e WHERE {w}) \
             SELECT to_char(m.start, 'YYYY-MM') AS month, \
                    count(e.created_at) AS listed, \
                    count(e.claimed_at) FILTER (WHERE e.claimed_at < m.next AT TIME ZONE 'UTC') \
                      AS claimed \
             FROM m LEFT JOIN e ON e.created_at < m.next AT TIME ZONE 'UTC' \
             GROUP BY m.start ORDER BY m.start"
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.month, r.listed, r.claimed))
        .collect())
}
