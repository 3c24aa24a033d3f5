//! Persistent delivery queue. Domain functions call [`enqueue`] inside their own transaction,
//! so the domain rows and the deliveries commit (or roll back) together.

use crate::{
    db::{
        actors::DbActor,
        schema::{activities, deliveries},
    },
    error::AppResult,
};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
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
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    local_domain: &str,
    activity: OutgoingActivity<'_>,
    inboxes: Vec<Url>,
) -> AppResult<i64> {
    let activity_id: i64 = diesel::insert_into(activities::table)
        .values((
            activities::ap_id.eq(activity.ap_id),
            activities::kind.eq(activity.kind),
            activities::actor_id.eq(activity.actor.id),
            activities::object_ap_id.eq(activity.object_ap_id),
            activities::data.eq(&activity.json),
            activities::public.eq(activity.public),
        ))
        .returning(activities::id)
        .get_result(conn)
        .await?;
    let mut seen = std::collections::HashSet::new();
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
        diesel::insert_into(deliveries::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(activity_id)
}

/// `host[:port]` of a URL: how instances (and our own domain) are named everywhere.
pub fn host_port(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}
