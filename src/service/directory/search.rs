//! The one directory search, shared by the page `/annuaire` and `GET /api/v1/directory`:
//! members (accounts with their actor), venues, sharing offers and the département's listed
//! entries nobody claimed yet, in one ranked, filtered, paginated list.
//!
//! Matching: French full text over each table's trigger-maintained `search_doc` (the
//! `french_unaccent` configuration: "theatre" finds "Théâtre", "danses" finds "danse"), or
//! trigram word similarity of the normalised query with `search_name` for typos
//! ("médiatèque" finds "Médiathèque…"). Both are served by the GIN indexes of the tables.
//! User text never reaches tsquery syntax: it is cleaned to words, then read by
//! `websearch_to_tsquery`, which accepts any string.
//!
//! Never listed: members who hide themselves, suspended accounts and sanctioned actors,
//! system actors (the instance actor, the announcement channel and the département's page
//! have no account, so they are not members of the directory), deleted or hidden venues and
//! offers, members-only offers to visitors, closed offers unless asked, claimed entries
//! (their account shows instead).

use crate::{
    context::AppContext,
    db::{
        accounts::DbAccount,
        bound_sql::{Param, Sql},
    },
    error::{AppError, AppResult, FieldError},
    service::{
        communes::{self, Commune},
        directory::{DirectoryKind, EARTH_RADIUS_KM, UnitPoint, chord2_of_km},
    },
};
use diesel::{
    QueryableByName,
    sql_types::{Array, BigInt, Bool, Double, Nullable, Text},
};
use diesel_async::{AsyncConnection, RunQueryDsl};

/// Results per page.
pub const PER_PAGE: i64 = 20;
/// Longest query kept (characters); longer ones are cut, never refused.
pub const MAX_QUERY_CHARS: usize = 200;
/// Largest radius accepted (km).
pub const MAX_RADIUS_KM: f64 = 1000.0;
/// Trigram word similarity a name must reach to match a typo (`pg_trgm`'s default for `<%`).
const TYPO_THRESHOLD: f64 = 0.6;

/// What a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitType {
    Member,
    Venue,
    Offer,
}

impl HitType {
    pub const ALL: [HitType; 3] = [HitType::Member, HitType::Venue, HitType::Offer];

    pub fn as_str(self) -> &'static str {
        match self {
            HitType::Member => "member",
            HitType::Venue => "venue",
            HitType::Offer => "offer",
        }
    }

    /// The code, or the French word people may type.
    pub fn parse(s: &str) -> Option<HitType> {
        match communes::normalize(s).as_str() {
            "member" | "membre" | "membres" => Some(HitType::Member),
            "venue" | "lieu" | "lieux" => Some(HitType::Venue),
            "offer" | "offre" | "offres" | "mutualisation" => Some(HitType::Offer),
            _ => None,
        }
    }

    /// i18n key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            HitType::Member => "directory.type.member",
            HitType::Venue => "directory.type.venue",
            HitType::Offer => "directory.type.offer",
        }
    }
}

/// The search as the query string carries it (page and API alike); every field is text so
/// that nonsense is reported by name instead of failing to parse.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SearchParams {
    pub q: Option<String>,
    #[serde(rename = "type")]
    pub hit_type: Option<String>,
    pub kind: Option<String>,
    pub discipline: Option<String>,
    pub commune: Option<String>,
    pub near: Option<String>,
    pub radius: Option<String>,
    /// `true`/`1`/`oui`: closed offers too.
    pub closed: Option<String>,
    pub page: Option<String>,
}

/// A checked search.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The cleaned words ("" = browse everything).
    pub q: String,
    pub hit_type: Option<HitType>,
    pub kind: Option<DirectoryKind>,
    pub discipline: Option<String>,
    pub commune: Option<&'static Commune>,
    /// Sort by distance from this commune's centre.
    pub near: Option<&'static Commune>,
    pub radius_km: Option<f64>,
    pub include_closed: bool,
    /// 1-based.
    pub page: i64,
}

fn clean_opt(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The query as it is searched: at most [`MAX_QUERY_CHARS`] characters, every character that
/// is not a letter, a digit or an apostrophe inside a word read as a space (so `&|!():*'\`,
/// quotes and minus signs are never operators), words separated by one space.
pub fn clean_query(q: &str) -> String {
    let cut: String = q.chars().take(MAX_QUERY_CHARS).collect();
    let spaced: String = cut
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    // A word said twice adds nothing to the search, only work.
    let mut seen = std::collections::HashSet::new();
    spaced
        .split_whitespace()
        .filter(|w| seen.insert(w.to_lowercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The part of the query compared by trigrams: names are short, and a long query would
/// make the trigram index read most of its lists.
fn typo_part(q: &str) -> String {
    let mut out = String::new();
    for word in q.split(' ').take(4) {
        if out.chars().count() + word.chars().count() > 60 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

impl SearchParams {
    /// Checks every field, reporting all the ones at fault at once (422 naming them).
    /// `departement` is the configured one (communes of the same name elsewhere lose).
    pub fn check(&self, departement: &str) -> AppResult<SearchQuery> {
        let mut errors = Vec::new();
        let mut field = |name: &str, key: &'static str| {
            errors.push(FieldError {
                field: name.to_string(),
                message_key: key,
            })
        };
        let hit_type = match clean_opt(&self.hit_type) {
            Some(t) => HitType::parse(t).or_else(|| {
                field("type", "field.directory_type.unknown");
                None
            }),
            None => None,
        };
        let kind = match clean_opt(&self.kind) {
            Some(k) => DirectoryKind::parse(k).or_else(|| {
                field("kind", "field.directory_kind.unknown");
                None
            }),
            None => None,
        };
        let discipline = clean_opt(&self.discipline)
            .map(|d| d.chars().take(100).collect::<String>())
            .filter(|d| !communes::normalize(d).is_empty());
        let mut commune_of = |name: &str, value: &Option<String>| match communes::parse_field(
            value.as_deref().unwrap_or(""),
            departement,
        ) {
            Ok(c) => c,
            Err(key) => {
                field(name, key);
                None
            }
        };
        let commune = commune_of("commune", &self.commune);
        let near = commune_of("near", &self.near);
        if near.is_some_and(|c| c.latitude.is_none() || c.longitude.is_none()) {
            field("near", "field.directory_near.no_centre");
        }
        let radius_km = match clean_opt(&self.radius) {
            Some(r) => match r.replace(',', ".").parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 && r <= MAX_RADIUS_KM => Some(r),
                _ => {
                    field("radius", "field.directory_radius.invalid");
                    None
                }
            },
            None => None,
        };
        if radius_km.is_some() && near.is_none() && clean_opt(&self.near).is_none() {
            field("near", "field.directory_near.required_with_radius");
        }
        if !errors.is_empty() {
            return Err(AppError::fields(errors));
        }
        let include_closed = matches!(
            clean_opt(&self.closed).map(str::to_lowercase).as_deref(),
            Some("true" | "1" | "oui" | "on" | "yes")
        );
        let page = clean_opt(&self.page)
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| (1..=10_000).contains(p))
            .unwrap_or(1);
        Ok(SearchQuery {
            q: clean_query(self.q.as_deref().unwrap_or("")),
            hit_type,
            kind,
            discipline,
            commune,
            near,
            radius_km,
            include_closed,
            page,
        })
    }
}

/// One result.
#[derive(Debug, Clone)]
pub struct Hit {
    pub hit_type: HitType,
    /// Account, venue, offer or entry id (by `hit_type` and `claimed`).
    pub id: i64,
    pub name: String,
    /// Path of its page on this instance.
    pub path: String,
    /// Its ActivityPub id (members and venues).
    pub ap_id: Option<String>,
    pub commune_code: Option<String>,
    pub commune_name: Option<String>,
    /// None for offers.
    pub kind: Option<DirectoryKind>,
    /// Offers' category code (son, lumiere…).
    pub category: Option<String>,
    pub disciplines: Vec<String>,
    /// Distance from the `near` commune, when sorting by distance.
    pub distance_km: Option<f64>,
    /// False for an entry the département listed that nobody claimed yet.
    pub claimed: bool,
    /// Its own coordinates, else its commune's centre.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<Hit>,
}

impl SearchPage {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    typ: String,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    ap_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    commune_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    commune_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    kind: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    category: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    disciplines: Vec<String>,
    #[diesel(sql_type = Nullable<Double>)]
    lat: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    lon: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    distance_km: Option<f64>,
    #[diesel(sql_type = Bool)]
    claimed: bool,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Which rows of one table answer the query, and how well: the match condition (empty when
/// browsing) and the rank expression.
struct Matching {
    /// `$n` of the cleaned query, and `$m` of its `cc_search_name`.
    q: Option<(String, String)>,
}

impl Matching {
    fn condition(&self, alias: &str) -> String {
        match &self.q {
            Some((q, n)) => format!(
                " AND ({alias}.search_doc @@ websearch_to_tsquery('french_unaccent', {q}) \
                 OR {n} <% {alias}.search_name)"
            ),
            None => String::new(),
        }
    }

    /// Full-text rank (name words weigh most) plus trigram likeness of the name, plus one
    /// when the name itself matches (its words carry weight A in `search_doc`, or it is
    /// like the query), so that name matches come first.
    fn rank(&self, alias: &str) -> String {
        match &self.q {
            Some((q, n)) => format!(
                "(ts_rank_cd({alias}.search_doc, websearch_to_tsquery('french_unaccent', {q}))::float8 \
                 + word_similarity({n}, {alias}.search_name)::float8 \
                 + CASE WHEN ts_filter({alias}.search_doc, '{{a}}') \
                        @@ websearch_to_tsquery('french_unaccent', {q}) \
                      OR word_similarity({n}, {alias}.search_name) >= {TYPO_THRESHOLD} \
                   THEN 1 ELSE 0 END)"
            ),
            None => "0::float8".to_string(),
        }
    }
}

/// SQL condition: actor `column` is deleted or blocked by the moderators. `IN` (a hashed
/// subplan over the few such rows) rather than `EXISTS` (a join that would decide how the
/// main table is read).
fn gone(column: &str) -> String {
    format!(
        "{column} IN (SELECT x_.id FROM actors x_ \
         WHERE x_.deleted_at IS NOT NULL OR x_.blocked_at IS NOT NULL)"
    )
}

/// SQL condition: account `column` is suspended (see [`gone`]).
fn suspended(column: &str) -> String {
    format!("{column} IN (SELECT s_.id FROM accounts s_ WHERE s_.suspended_at IS NOT NULL)")
}

/// Condition on the `disciplines` of `alias`: one of them is `$d` without case or accents.
/// Disciplines are words of `search_doc` (weight B), so its GIN index finds the candidates
/// and the exact comparison runs on those only.
fn discipline_condition(alias: &str, d: &str) -> String {
    format!(
        " AND {alias}.search_doc @@ phraseto_tsquery('french_unaccent', {d}) \
         AND EXISTS (SELECT 1 FROM unnest({alias}.disciplines) d_ \
                     WHERE cc_search_name(d_) = cc_search_name({d}))"
    )
}

/// Searches the directory for `viewer` (None: an anonymous visitor, who sees public offers
/// only). The same function serves the page, the API and the benchmark.
pub async fn search(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    query: &SearchQuery,
) -> AppResult<SearchPage> {
    let Some(statement) = statement(viewer, query)? else {
        return Ok(SearchPage {
            total: 0,
            page: query.page,
            per_page: PER_PAGE,
            items: Vec::new(),
        });
    };
    let mut conn = ctx.conn().await?;
    let page = query.page;
    let (rows, total) = conn
        .transaction::<_, AppError, _>(async |conn| {
            plan_settings(conn, &statement).await?;
            let rows: Vec<Row> = Sql {
                params: statement.params.clone(),
            }
            .query(statement.text.clone())
            .load(conn)
            .await?;
            let total = match <[Row]>::first(&rows) {
                Some(r) if !statement.browsing => r.total,
                // Browsing, or past the last page: the count tells how many there are.
                None if page == 1 && !statement.browsing => 0,
                _ => {
                    Sql {
                        params: statement.params.clone(),
                    }
                    .query(statement.count_text.clone())
                    .get_result::<Count>(conn)
                    .await?
                    .total
                }
            };
            Ok((rows, total))
        })
        .await?;
    let items = rows.into_iter().map(hit).collect();
    Ok(SearchPage {
        total,
        page: query.page,
        per_page: PER_PAGE,
        items,
    })
}

/// The query plan of a search with its timings (`EXPLAIN ANALYZE`), for the benchmark.
pub async fn explain(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    query: &SearchQuery,
) -> AppResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct PlanLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let Some(statement) = statement(viewer, query)? else {
        return Ok(Vec::new());
    };
    let mut conn = ctx.conn().await?;
    let lines = conn
        .transaction::<Vec<PlanLine>, AppError, _>(async |conn| {
            plan_settings(conn, &statement).await?;
            Ok(Sql {
                params: statement.params.clone(),
            }
            .query(format!("EXPLAIN ANALYZE {}", statement.text))
            .load(conn)
            .await?)
        })
        .await?;
    Ok(lines.into_iter().map(|l| l.line).collect())
}

/// Planner settings for this transaction. Parallel workers cost more than they save on
/// a few thousand rows. With words to match, the planner underrates the per-row cost of
/// trigram likeness and may scan whole tables; the GIN indexes are always the better way.
async fn plan_settings(
    conn: &mut diesel_async::AsyncPgConnection,
    statement: &Statement,
) -> AppResult<()> {
    diesel::sql_query("SET LOCAL max_parallel_workers_per_gather = 0")
        .execute(conn)
        .await?;
    if statement.matching {
        diesel::sql_query("SET LOCAL enable_seqscan = off")
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The SQL of a search: the page, the count, their bound values.
struct Statement {
    text: String,
    count_text: String,
    params: Vec<Param>,
    /// No query and no distance: the page query does not count.
    browsing: bool,
    /// Words to match.
    matching: bool,
}

/// Builds the search's SQL; None when no table can answer (an offer with a kind…).
fn statement(viewer: Option<&DbAccount>, query: &SearchQuery) -> AppResult<Option<Statement>> {
    let mut sql = Sql::default();
    let matching = Matching {
        q: (!query.q.is_empty()).then(|| {
            let q = sql.bind(Param::Text(query.q.clone()));
            let typo = sql.bind(Param::Text(typo_part(&query.q)));
            (q, format!("cc_search_name({typo})"))
        }),
    };
    let kind = query.kind.map(|k| sql.bind(Param::Text(k.as_str().into())));
    let discipline = query
        .discipline
        .as_ref()
        .map(|d| sql.bind(Param::Text(d.clone())));
    let commune = query
        .commune
        .map(|c| sql.bind(Param::Text(c.code.to_string())));
    let wants = |t: HitType| query.hit_type.is_none_or(|h| h == t);
    let member_viewer = viewer.is_some_and(|v| v.suspended_at.is_none());

    let mut branches = Vec::new();
    // "Sanctioned" is what `db::actors::sanctioned_sql` checks (the actor blocked, or its
    // account suspended), written as filters against the few sanctioned rows (partial
    // indexes): joining every actor would cost more than the rest of the search. The
    // owner of a venue or an offer is a local account: suspension is its sanction.
    // Members: accounts listed in the directory, with their actor.
    if wants(HitType::Member) {
        let mut w = format!(
            "NOT a.directory_hidden AND a.suspended_at IS NULL AND NOT {}{}",
            gone("a.actor_id"),
            matching.condition("a")
        );
        if let Some(k) = &kind {
            w.push_str(&format!(" AND a.directory_kind = {k}"));
        }
        if let Some(d) = &discipline {
            w.push_str(&discipline_condition("a", d));
        }
        if let Some(c) = &commune {
            w.push_str(&format!(" AND a.commune_code = {c}"));
        }
        branches.push(format!(
            "SELECT 'member'::text AS typ, a.id, coalesce(nullif(a.display_name, ''), a.username) AS name, \
             a.search_name, a.username AS key, a.actor_id, a.commune_code, a.directory_kind AS kind, \
             NULL::text AS category, a.disciplines, a.latitude AS lat, a.longitude AS lon, \
             a.pos_x AS px, a.pos_y AS py, a.pos_z AS pz, true AS claimed, {rank} AS rank \
             FROM accounts a WHERE {w}",
            rank = matching.rank("a"),
        ));
    }
    // Venues count as kind `lieu`.
    if wants(HitType::Venue) && query.kind.is_none_or(|k| k == DirectoryKind::Lieu) {
        let mut w = format!(
            "v.deleted_at IS NULL AND v.hidden_at IS NULL AND NOT {} AND NOT {}{}",
            gone("v.actor_id"),
            suspended("v.owner_account_id"),
            matching.condition("v")
        );
        if let Some(d) = &discipline {
            w.push_str(&discipline_condition("v", d));
        }
        if let Some(c) = &commune {
            w.push_str(&format!(" AND v.commune_code = {c}"));
        }
        branches.push(format!(
            "SELECT 'venue'::text AS typ, v.id, v.name, v.search_name, v.slug AS key, v.actor_id, \
             v.commune_code, 'lieu'::text AS kind, NULL::text AS category, v.disciplines, \
             v.latitude AS lat, v.longitude AS lon, v.pos_x AS px, v.pos_y AS py, v.pos_z AS pz, \
             true AS claimed, {rank} AS rank \
             FROM venues v WHERE {w}",
            rank = matching.rank("v"),
        ));
    }
    // Offers have neither kind nor disciplines: a filter on those leaves them out.
    if wants(HitType::Offer) && query.kind.is_none() && discipline.is_none() {
        let mut w = format!(
            "o.deleted_at IS NULL AND o.hidden_at IS NULL AND NOT {}{}",
            suspended("o.account_id"),
            matching.condition("o")
        );
        if !query.include_closed {
            w.push_str(" AND o.closed_at IS NULL");
        }
        if !member_viewer {
            w.push_str(" AND o.public");
        }
        if let Some(c) = &commune {
            w.push_str(&format!(" AND o.commune_code = {c}"));
        }
        branches.push(format!(
            "SELECT 'offer'::text AS typ, o.id, o.title AS name, o.search_name, o.id::text AS key, \
             NULL::int8 AS actor_id, o.commune_code, NULL::text AS kind, o.category, \
             '{{}}'::text[] AS disciplines, o.latitude AS lat, o.longitude AS lon, o.pos_x AS px, \
             o.pos_y AS py, o.pos_z AS pz, true AS claimed, {rank} AS rank \
             FROM offers o WHERE {w}",
            rank = matching.rank("o"),
        ));
    }
    // Entries the département listed that nobody claimed: members, or venues when `is_venue`.
    if query.hit_type != Some(HitType::Offer) {
        let mut w = format!("e.claimed_at IS NULL{}", matching.condition("e"));
        match query.hit_type {
            Some(HitType::Member) => w.push_str(" AND NOT e.is_venue"),
            Some(HitType::Venue) => w.push_str(" AND e.is_venue"),
            _ => {}
        }
        if let Some(k) = &kind {
            if query.kind == Some(DirectoryKind::Lieu) {
                w.push_str(&format!(" AND (e.kind = {k} OR e.is_venue)"));
            } else {
                w.push_str(&format!(" AND e.kind = {k}"));
            }
        }
        if let Some(d) = &discipline {
            w.push_str(&discipline_condition("e", d));
        }
        if let Some(c) = &commune {
            w.push_str(&format!(" AND e.commune_code = {c}"));
        }
        branches.push(format!(
            "SELECT CASE WHEN e.is_venue THEN 'venue' ELSE 'member' END AS typ, e.id, e.name, \
             e.search_name, e.id::text AS key, NULL::int8 AS actor_id, e.commune_code, e.kind, \
             NULL::text AS category, e.disciplines, e.latitude AS lat, e.longitude AS lon, \
             e.pos_x AS px, e.pos_y AS py, e.pos_z AS pz, false AS claimed, {rank} AS rank \
             FROM directory_entries e WHERE {w}",
            rank = matching.rank("e"),
        ));
    }
    if branches.is_empty() {
        return Ok(None);
    }

    let offset = (query.page - 1) * PER_PAGE;
    let union = branches.join(" UNION ALL ");
    // Each kind of row is joined to its commune only once on the page, except when sorting
    // by distance (every result needs its position then).
    let page_columns = "p.typ, p.id, p.name, p.search_name, p.key, pa.ap_id, p.commune_code, \
        c.name AS commune_name, p.kind, p.category, p.disciplines, \
        coalesce(p.lat, c.latitude) AS lat, coalesce(p.lon, c.longitude) AS lon, p.claimed, p.rank";
    let (text, count_text) = match query.near {
        Some(near) => {
            let (Some(lat), Some(lon)) = (near.latitude, near.longitude) else {
                return Err(AppError::field("near", "field.directory_near.no_centre"));
            };
            // The centre as a point on the unit sphere; each row carries its own (see the
            // migration `directory_positions`). Rows are ordered by the squared chord between
            // the two, which orders them by distance; only the page's rows get it in km.
            let centre = UnitPoint::of(lat, lon);
            let x = sql.bind(Param::Double(centre.x));
            let y = sql.bind(Param::Double(centre.y));
            let z = sql.bind(Param::Double(centre.z));
            let radius = match query.radius_km {
                Some(r) => format!(
                    " AND d0.chord2 <= {}",
                    sql.bind(Param::Double(chord2_of_km(r)))
                ),
                None => String::new(),
            };
            let with = format!(
                "WITH p AS ({union}), \
                 d0 AS (SELECT p.*, (p.px - {x}) * (p.px - {x}) + (p.py - {y}) * (p.py - {y}) \
                          + (p.pz - {z}) * (p.pz - {z}) AS chord2 FROM p), \
                 d AS NOT MATERIALIZED (SELECT * FROM d0 WHERE d0.chord2 IS NOT NULL{radius})"
            );
            (
                // The count as a scalar subquery keeps the sort a top-N one. `d` is not
                // materialized: a store of every row (names, disciplines…) spilled to disk
                // and cost more than reading the tables twice.
                format!(
                    "{with}, \
                     top AS (SELECT * FROM d ORDER BY d.chord2, d.rank DESC, d.search_name, \
                             d.typ, d.id LIMIT {PER_PAGE} OFFSET {offset}) \
                     SELECT t.typ, t.id, t.name, t.key, pa.ap_id, t.commune_code, \
                       c.name AS commune_name, t.kind, t.category, t.disciplines, \
                       coalesce(t.lat, c.latitude) AS lat, coalesce(t.lon, c.longitude) AS lon, \
                       t.claimed, {diameter} * asin(least(1, sqrt(t.chord2) / 2)) AS distance_km, \
                       (SELECT count(*) FROM d) AS total \
                     FROM top t LEFT JOIN actors pa ON pa.id = t.actor_id \
                     LEFT JOIN communes c ON c.code = t.commune_code \
                     ORDER BY t.chord2, t.rank DESC, t.search_name, t.typ, t.id",
                    diameter = 2.0 * EARTH_RADIUS_KM
                ),
                format!("{with} SELECT count(*) AS total FROM d"),
            )
        }
        None => {
            let (hits, order, total) = if matching.q.is_some() {
                // Every match is ranked; the count comes with the page.
                (
                    union.clone(),
                    "rank DESC, search_name, typ, id",
                    "count(*) OVER ()",
                )
            } else {
                // Browsing: each table gives only its first rows in name order (an index
                // scan), the count is a separate, cheaper query.
                let keep = offset + PER_PAGE;
                (
                    branches
                        .iter()
                        .map(|b| format!("({b} ORDER BY search_name, typ, id LIMIT {keep})"))
                        .collect::<Vec<_>>()
                        .join(" UNION ALL "),
                    "search_name, typ, id",
                    "0::int8",
                )
            };
            (
                format!(
                    "WITH h AS ({hits}), \
                     p AS (SELECT h.*, {total} AS total FROM h ORDER BY {order} \
                           LIMIT {PER_PAGE} OFFSET {offset}) \
                     SELECT {page_columns}, NULL::float8 AS distance_km, p.total \
                     FROM p LEFT JOIN communes c ON c.code = p.commune_code \
                     LEFT JOIN actors pa ON pa.id = p.actor_id \
                     ORDER BY {order}"
                ),
                format!("WITH h AS ({union}) SELECT count(*) AS total FROM h"),
            )
        }
    };
    Ok(Some(Statement {
        text,
        count_text,
        params: sql.params,
        browsing: matching.q.is_none() && query.near.is_none(),
        matching: matching.q.is_some(),
    }))
}

fn hit(r: Row) -> Hit {
    let hit_type = match r.typ.as_str() {
        "venue" => HitType::Venue,
        "offer" => HitType::Offer,
        _ => HitType::Member,
    };
    let path = match (hit_type, r.claimed) {
        (_, false) => format!("/annuaire/fiches/{}", r.id),
        (HitType::Member, true) => format!("/users/{}", r.key),
        (HitType::Venue, true) => format!("/venues/{}", r.key),
        (HitType::Offer, true) => format!("/mutualisation/{}", r.id),
    };
    Hit {
        hit_type,
        id: r.id,
        name: r.name,
        path,
        ap_id: r.ap_id,
        commune_code: r.commune_code,
        commune_name: r.commune_name,
        kind: r.kind.as_deref().and_then(DirectoryKind::parse),
        category: r.category,
        disciplines: r.disciplines,
        distance_km: r.distance_km,
        claimed: r.claimed,
        latitude: r.lat,
        longitude: r.lon,
    }
}

/// A listed entry as its public page shows it (never its e-mail address).
#[derive(Debug, Clone, QueryableByName)]
pub struct ListedEntry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Array<Text>)]
    pub disciplines: Vec<String>,
    #[diesel(sql_type = Text)]
    pub phone: String,
    #[diesel(sql_type = Text)]
    pub address: String,
    #[diesel(sql_type = Text)]
    pub postal_code: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub commune_code: Option<String>,
    #[diesel(sql_type = Text)]
    pub website: String,
    #[diesel(sql_type = Bool)]
    pub is_venue: bool,
    #[diesel(sql_type = Bool)]
    pub claimed: bool,
    /// The account that claimed it, when it still exists and is not suspended.
    #[diesel(sql_type = Nullable<Text>)]
    pub claimed_by_username: Option<String>,
}

impl ListedEntry {
    pub fn directory_kind(&self) -> Option<DirectoryKind> {
        DirectoryKind::parse(&self.kind)
    }

    pub fn commune(&self) -> Option<&'static Commune> {
        self.commune_code.as_deref().and_then(communes::by_code)
    }
}

/// Entry `id` of the département's list, claimed or not (the page sends claimed ones to
/// their account).
pub async fn listed_entry(ctx: &AppContext, id: i64) -> AppResult<Option<ListedEntry>> {
    let mut conn = ctx.conn().await?;
    let entry = diesel::sql_query(
        "SELECT e.id, e.name, e.kind, e.disciplines, e.phone, e.address, e.postal_code, \
                e.commune_code, e.website, e.is_venue, e.claimed_at IS NOT NULL AS claimed, \
                a.username AS claimed_by_username \
         FROM directory_entries e \
         LEFT JOIN accounts a ON a.id = e.account_id AND a.suspended_at IS NULL \
              AND NOT a.directory_hidden \
         WHERE e.id = $1",
    )
    .bind::<BigInt, _>(id)
    .get_result::<ListedEntry>(&mut conn)
    .await
    .map(Some)
    .or_else(|e| match e {
        diesel::result::Error::NotFound => Ok(None),
        e => Err(e),
    })?;
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_cleaned_to_words_and_capped() {
        assert_eq!(clean_query("  &|!():*'\\ "), "");
        assert_eq!(clean_query("l'atelier & co!"), "l atelier co");
        assert_eq!(
            clean_query("Théâtre -danse \"cirque\""),
            "Théâtre danse cirque"
        );
        let long = "a".repeat(1000);
        assert_eq!(clean_query(&long).len(), MAX_QUERY_CHARS);
    }

    #[test]
    fn fields_at_fault_are_all_named() {
        let params = SearchParams {
            hit_type: Some("banane".into()),
            kind: Some("xyz".into()),
            commune: Some("Nulle-Part-Sur-Rien".into()),
            radius: Some("-3".into()),
            ..Default::default()
        };
        let err = params.check("88").expect_err("refused");
        for f in ["type", "kind", "commune", "radius"] {
            assert!(err.detail.contains(f), "{f} in {}", err.detail);
        }
        let ok = SearchParams {
            hit_type: Some("lieux".into()),
            near: Some("Épinal".into()),
            radius: Some("12,5".into()),
            page: Some("abc".into()),
            ..Default::default()
        }
        .check("88")
        .expect("accepted");
        assert_eq!(ok.hit_type, Some(HitType::Venue));
        assert_eq!(ok.near.map(|c| c.code), Some("88160"));
        assert_eq!(ok.radius_km, Some(12.5));
        assert_eq!(ok.page, 1);
    }
}
