//! The public URL the local ids were built from (one row), what tells whether other servers
//! know those ids, and the rewrite of every stored local id from one URL to another.

use super::schema::{actors, instance_identity};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = instance_identity)]
pub struct IdentityRow {
    pub url: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub moved_from: Option<String>,
    pub moved_at: Option<DateTime<Utc>>,
    pub first_federated_at: Option<DateTime<Utc>>,
}

pub async fn read(conn: &mut AsyncPgConnection) -> QueryResult<Option<IdentityRow>> {
    instance_identity::table
        .select(IdentityRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The row, locked until the end of the transaction (so two moves cannot interleave).
pub async fn read_for_update(conn: &mut AsyncPgConnection) -> QueryResult<Option<IdentityRow>> {
    instance_identity::table
        .select(IdentityRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Records `url` unless a URL is already recorded; returns the recorded one. Several
/// processes starting at once on a fresh database all get the first writer's URL.
pub async fn record_if_absent(conn: &mut AsyncPgConnection, url: &str) -> QueryResult<String> {
    diesel::sql_query(
        "INSERT INTO instance_identity (singleton, url) VALUES (TRUE, $1) \
         ON CONFLICT (singleton) DO UPDATE SET url = EXCLUDED.url, recorded_at = now() \
         WHERE instance_identity.url IS NULL",
    )
    .bind::<Text, _>(url)
    .execute(conn)
    .await?;
    instance_identity::table
        .select(instance_identity::url.assume_not_null())
        .first(conn)
        .await
}

/// The id of the local instance actor (`{base}/actor`), if the system actors exist: on a
/// database older than the identity row, that is where the URL in use can be read.
pub async fn local_instance_actor_id(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> QueryResult<Option<String>> {
    actors::table
        .filter(actors::local.eq(true))
        .filter(actors::kind.eq("Application"))
        .filter(actors::username.eq(username))
        .select(actors::ap_id)
        .first(conn)
        .await
        .optional()
}

/// What shows that other servers know our ids; all zero for an instance that never federated.
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct FederationTraces {
    /// Follows with a remote actor on either side, in any state.
    #[diesel(sql_type = BigInt)]
    pub remote_follows: i64,
    /// Deliveries still in the queue (finished ones are purged after a while).
    #[diesel(sql_type = BigInt)]
    pub deliveries: i64,
    /// Inbound activities processed in the last days.
    #[diesel(sql_type = BigInt)]
    pub received_activities: i64,
    /// Comments by remote authors under local posts.
    #[diesel(sql_type = BigInt)]
    pub remote_comments: i64,
    /// Likes and boosts by remote actors.
    #[diesel(sql_type = BigInt)]
    pub remote_reactions: i64,
}

pub async fn federation_traces(conn: &mut AsyncPgConnection) -> QueryResult<FederationTraces> {
    diesel::sql_query(
        "SELECT \
           (SELECT count(*) FROM follows f \
              JOIN actors a ON a.id = f.follower_id JOIN actors b ON b.id = f.followee_id \
              WHERE NOT a.local OR NOT b.local) AS remote_follows, \
           (SELECT count(*) FROM deliveries) AS deliveries, \
           (SELECT count(*) FROM received_activities) AS received_activities, \
           (SELECT count(*) FROM comments c \
              JOIN actors a ON a.id = c.author_actor_id JOIN posts p ON p.id = c.post_id \
              WHERE NOT a.local AND p.local) AS remote_comments, \
           (SELECT count(*) FROM reactions r JOIN actors a ON a.id = r.actor_id \
              WHERE NOT a.local) AS remote_reactions",
    )
    .get_result(conn)
    .await
}

#[derive(QueryableByName)]
struct TextColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

/// The text and JSON columns of the tables of the current schema, except generated ones
/// (computed from the others, they cannot be written) and the reference data (communes,
/// EPCIs: no address of ours in them).
async fn text_columns(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TextColumn>> {
    diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                c.data_type::text AS data_type \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
           AND c.data_type IN ('text', 'character varying', 'jsonb', 'json') \
           AND c.is_generated = 'NEVER' \
           AND c.table_name NOT IN ('communes', 'epcis', 'reference_data') \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)
    .await
}

/// Tables whose text never holds one of our ids, or that this module writes itself.
const SKIPPED_TABLES: &[&str] = &["__diesel_schema_migrations", "instance_identity"];

/// Rewrites every stored local id and link from `old` to `new` (both site roots without the
/// trailing slash; `old_domain`/`new_domain` their `host[:port]`): a text value that is `old`
/// or starts with `old/` (ids, inboxes, collections, key owners, avatars), a quoted `"old/…`
/// or `"old"` inside a text or JSON value (links in HTML, ids in stored activities), a
/// `@user@old_domain` handle ending a JSON string (mention names), and the domain of local
/// actors. Every text and JSON column of the schema is visited, so tables added later are
/// covered without a list to keep up to date. Run it inside a transaction. Returns how many
/// values changed.
pub async fn rewrite_local_ids(
    conn: &mut AsyncPgConnection,
    old: &str,
    new: &str,
    old_domain: &str,
    new_domain: &str,
) -> QueryResult<u64> {
    let columns = text_columns(conn).await?;
    let mut changed = 0u64;
    for column in columns {
        if SKIPPED_TABLES.contains(&column.table_name.as_str()) {
            continue;
        }
        let table = quote_ident(&column.table_name);
        let col = quote_ident(&column.column_name);
        // $1 old, $2 new, $3 "@old_domain\"", $4 "@new_domain\"".
        let quoted_rewrite = |value: &str| {
            format!(
                "replace(replace(replace({value}, '\"' || $1 || '/', '\"' || $2 || '/'), \
                 '\"' || $1 || '\"', '\"' || $2 || '\"'), $3, $4)"
            )
        };
        let sql = match column.data_type.as_str() {
            "jsonb" | "json" => {
                let text = format!("{col}::text");
                let rewritten = format!("({})::{}", quoted_rewrite(&text), column.data_type);
                format!(
                    "UPDATE {table} SET {col} = {rewritten} \
                     WHERE (strpos({text}, $1) > 0 OR strpos({text}, $3) > 0) \
                       AND {rewritten}::text IS DISTINCT FROM {text}"
                )
            }
            _ => {
                let rewritten = format!(
                    "CASE WHEN {col} = $1 OR left({col}, length($1) + 1) = $1 || '/' \
                       THEN $2 || substr({col}, length($1) + 1) \
                     ELSE {} END",
                    quoted_rewrite(&col)
                );
                format!(
                    "UPDATE {table} SET {col} = {rewritten} \
                     WHERE (strpos({col}, $1) > 0 OR strpos({col}, $3) > 0) \
                       AND {rewritten} IS DISTINCT FROM {col}"
                )
            }
        };
        let n = diesel::sql_query(sql)
            .bind::<Text, _>(old)
            .bind::<Text, _>(new)
            .bind::<Text, _>(format!("@{old_domain}\""))
            .bind::<Text, _>(format!("@{new_domain}\""))
            .execute(conn)
            .await?;
        changed += n as u64;
    }
    let n = diesel::update(actors::table.filter(actors::local.eq(true)))
        .set(actors::domain.eq(new_domain))
        .execute(conn)
        .await?;
    Ok(changed + n as u64)
}

/// Notes the move on the identity row.
pub async fn set_moved(conn: &mut AsyncPgConnection, old: &str, new: &str) -> QueryResult<()> {
    diesel::update(instance_identity::table)
        .set((
            instance_identity::url.eq(new),
            instance_identity::moved_from.eq(old),
            instance_identity::moved_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Every value of a text or JSON column that mentions `needle` (as `table.column: value`),
/// at most `limit`: what a test or an operator checks after a move.
pub async fn values_containing(
    conn: &mut AsyncPgConnection,
    needle: &str,
    limit: usize,
) -> QueryResult<Vec<String>> {
    let columns = text_columns(conn).await?;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        value: String,
    }
    let mut found = Vec::new();
    for column in columns {
        if SKIPPED_TABLES.contains(&column.table_name.as_str()) || found.len() >= limit {
            continue;
        }
        let sql = format!(
            "SELECT {col}::text AS value FROM {table} WHERE strpos({col}::text, $1) > 0 LIMIT $2",
            col = quote_ident(&column.column_name),
            table = quote_ident(&column.table_name),
        );
        let rows: Vec<Found> = diesel::sql_query(sql)
            .bind::<Text, _>(needle)
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(conn)
            .await?;
        found.extend(
            rows.into_iter()
                .map(|r| format!("{}.{}: {}", column.table_name, column.column_name, r.value)),
        );
    }
    found.truncate(limit);
    Ok(found)
}

/// A PostgreSQL identifier, quoted (the names come from the catalogue, but quoting keeps any
/// name working, upper case included).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The key that signs unsubscribe links, made on first use. The identity row normally exists
/// from the first start; a command or a test that never started a server may come first, so
/// the row is created when missing (its URL stays empty until `serve` records it).
pub async fn link_secret(conn: &mut AsyncPgConnection, fresh: &str) -> QueryResult<String> {
    diesel::sql_query(
        "INSERT INTO instance_identity (singleton, link_secret) VALUES (TRUE, $1) \
         ON CONFLICT (singleton) DO UPDATE SET link_secret = EXCLUDED.link_secret \
         WHERE instance_identity.link_secret IS NULL",
    )
    .bind::<Text, _>(fresh)
    .execute(conn)
    .await?;
    instance_identity::table
        .select(instance_identity::link_secret.assume_not_null())
        .first(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::quote_ident;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("posts"), "\"posts\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
