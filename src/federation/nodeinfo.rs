//! NodeInfo 2.1: what software this is, whether registrations are open, how many people use
//! it. Counts never detail workspaces or anything private.

use crate::{error::AppResult, federation::Data};
use axum::{
    Json,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use diesel::{prelude::*, sql_types::BigInt};
use diesel_async::RunQueryDsl;
use serde_json::json;

pub const SCHEMA_21: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";
pub const SOFTWARE_NAME: &str = "culturecnous";

/// `GET /.well-known/nodeinfo`: where the document is.
pub async fn http_get_nodeinfo_links(data: Data) -> Response {
    Json(json!({
        "links": [{
            "rel": SCHEMA_21,
            "href": format!("{}/nodeinfo/2.1", data.app_data().urls.base()),
        }]
    }))
    .into_response()
}

#[derive(QueryableByName)]
struct Usage {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    active_month: i64,
    #[diesel(sql_type = BigInt)]
    active_halfyear: i64,
    #[diesel(sql_type = BigInt)]
    local_posts: i64,
}

/// `GET /nodeinfo/2.1`
pub async fn http_get_nodeinfo(data: Data) -> AppResult<Response> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    // Active = logged in (or signed up) within the period. Local posts = public Create
    // activities published by local actors.
    let usage: Usage = diesel::sql_query(
        "SELECT \
           (SELECT count(*) FROM accounts WHERE suspended_at IS NULL) AS total, \
           (SELECT count(*) FROM accounts WHERE suspended_at IS NULL \
              AND COALESCE(last_login_at, created_at) > now() - interval '30 days') AS active_month, \
           (SELECT count(*) FROM accounts WHERE suspended_at IS NULL \
              AND COALESCE(last_login_at, created_at) > now() - interval '180 days') AS active_halfyear, \
           (SELECT count(*) FROM activities a JOIN actors ac ON ac.id = a.actor_id \
              WHERE ac.local AND a.public AND a.kind = 'Create') AS local_posts",
    )
    .get_result(&mut conn)
    .await?;
    let open = ctx.config.registration.open;
    let body = json!({
        "version": "2.1",
        "software": {
            "name": SOFTWARE_NAME,
            "version": env!("CARGO_PKG_VERSION"),
            "homepage": ctx.urls.base(),
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open,
        "usage": {
            "users": {
                "total": usage.total,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {
            "nodeName": ctx.config.instance.name,
        },
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        ),
    );
    Ok(response)
}
