//! Writing an outgoing activity and one delivery row per remote inbox, on the caller's
//! connection (its transaction).

use super::NOTIFY_CHANNEL;
use crate::{
    db::{self, actors::DbActor, schema::deliveries},
    error::AppResult,
    urls::host_port,
};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashSet;
use url::Url;

/// An activity to publish: stored once (dereferenceable at its id), delivered to each inbox.
pub struct OutgoingActivity<'a> {
    pub ap_id: &'a str,
    pub kind: &'a str,
    pub actor: &'a DbActor,
    pub object_ap_id: Option<&'a str>,
    pub json: serde_json::Value,
    /// Addressed to as:Public (may appear in outboxes and be served to anyone).
    pub public: bool,
}

/// Stores the activity and one delivery row per distinct remote inbox; returns the activity
/// row id. Local inboxes are skipped (local effects are applied directly by the caller).
/// Workers of every process are woken when the caller's transaction commits.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    local_domain: &str,
    activity: OutgoingActivity<'_>,
    inboxes: Vec<Url>,
) -> AppResult<i64> {
    let activity_id = db::activities::insert(
        conn,
        &db::activities::NewActivity {
            ap_id: activity.ap_id,
            kind: activity.kind,
            actor_id: activity.actor.id,
            object_ap_id: activity.object_ap_id,
            data: &activity.json,
            public: activity.public,
        },
    )
    .await?;
    let mut seen = HashSet::new();
    let rows: Vec<_> = inboxes
        .into_iter()
        .filter_map(|inbox| {
            let domain = host_port(&inbox)?;
            if domain == local_domain || !seen.insert(inbox.to_string()) {
                return None;
            }
            Some((
                deliveries::activity_id.eq(activity_id),
                deliveries::inbox_url.eq(inbox.to_string()),
                deliveries::domain.eq(domain),
            ))
        })
        .collect();
    if !rows.is_empty() {
        // Postgres caps the bind parameters of one statement; big fan-outs go in chunks.
        for chunk in rows.chunks(10_000) {
            diesel::insert_into(deliveries::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}"))
            .execute(conn)
            .await?;
    }
    Ok(activity_id)
}

/// The inboxes that reach every remote follower of `actor_id`: one per shared inbox, else
/// the follower's own inbox, deduplicated (N followers on one server → one request).
pub async fn followers_inboxes(conn: &mut AsyncPgConnection, actor_id: i64) -> AppResult<Vec<Url>> {
    let inboxes = db::follows::follower_inboxes(conn, actor_id).await?;
    let mut seen = HashSet::new();
    Ok(inboxes
        .iter()
        .filter_map(|s| Url::parse(s).ok())
        .filter(|u| seen.insert(u.clone()))
        .collect())
}

/// A host sent us something: it is alive again. Call it for every accepted inbound activity
/// (it writes nothing when the host was healthy). Deliveries that waited for an unreachable
/// host become due at once.
pub async fn mark_alive(conn: &mut AsyncPgConnection, domain: &str) -> AppResult<()> {
    if db::instances::mark_alive(conn, domain).await? {
        diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}
