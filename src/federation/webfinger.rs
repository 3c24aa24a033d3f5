//! Discovery: WebFinger (`acct:name@host`, actor URLs, and the server origin for the instance
//! actor, FEP-d556) and host-meta.

use crate::{
    db::{self, actors::DbActor},
    error::{AppError, AppResult},
    federation::{Data, negotiation::ACTIVITY_JSON},
};
use axum::{
    extract::Query,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use url::Url;

pub const JRD_JSON: &str = "application/jrd+json";

#[derive(Debug, Deserialize)]
pub struct WebfingerQuery {
    pub resource: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Jrd {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub links: Vec<JrdLink>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct JrdLink {
    pub rel: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// What a WebFinger resource names.
#[derive(Debug, PartialEq, Eq)]
enum Resource {
    Acct { user: String, host: String },
    Url(Url),
}

fn parse_resource(resource: &str) -> AppResult<Resource> {
    let resource = resource.trim();
    if resource.is_empty() {
        return Err(AppError::bad_request("resource: missing"));
    }
    if let Some(acct) = resource.strip_prefix("acct:") {
        let acct = acct.strip_prefix('@').unwrap_or(acct);
        let (user, host) = acct
            .rsplit_once('@')
            .ok_or_else(|| AppError::bad_request("resource: acct: needs user@host"))?;
        return Ok(Resource::Acct {
            user: user.to_string(),
            host: host.to_ascii_lowercase(),
        });
    }
    if resource.starts_with("http://") || resource.starts_with("https://") {
        let url =
            Url::parse(resource).map_err(|_| AppError::bad_request("resource: not a valid URL"))?;
        return Ok(Resource::Url(url));
    }
    // Some clients send `user@host` without the scheme.
    if let Some((user, host)) = resource.rsplit_once('@') {
        return Ok(Resource::Acct {
            user: user.trim_start_matches('@').to_string(),
            host: host.to_ascii_lowercase(),
        });
    }
    Err(AppError::bad_request(
        "resource: use acct:user@host or a URL",
    ))
}

/// Whether an actor may be found by WebFinger: not deleted, not a private workspace, not a
/// suspended account.
async fn discoverable(conn: &mut db::Conn, actor: &DbActor) -> AppResult<bool> {
    if !actor.local || actor.deleted_at.is_some() || actor.ap_url.path().starts_with("/workspaces/")
    {
        return Ok(false);
    }
    if let Some(account) = db::accounts::by_actor_id(conn, actor.id).await?
        && account.suspended_at.is_some()
    {
        return Ok(false);
    }
    // A venue hidden by the moderators is not found either.
    if let Some(venue) = db::venues::by_actor_id(conn, actor.id).await?
        && (venue.hidden_at.is_some() || venue.deleted_at.is_some())
    {
        return Ok(false);
    }
    Ok(true)
}

/// The JRD for `resource`, or 404 when it names nothing (public) here.
pub async fn lookup(data: &Data, resource: &str) -> AppResult<Jrd> {
    let ctx = data.app_data();
    let domain = ctx.config.domain().to_ascii_lowercase();
    let base = Url::parse(ctx.urls.base())?;
    let mut conn = ctx.conn().await?;
    let (subject, actor) = match parse_resource(resource)? {
        Resource::Acct { user, host } => {
            if host != domain {
                return Err(AppError::not_found());
            }
            if user.eq_ignore_ascii_case(&domain)
                || user.eq_ignore_ascii_case(host.split(':').next().unwrap_or_default())
            {
                // Mastodon names its instance actor `acct:host@host`.
                let actor = db::actors::by_ap_id(&mut conn, &ctx.urls.instance_actor()).await?;
                (format!("acct:{user}@{domain}"), actor)
            } else {
                let actor = db::actors::local_by_username(&mut conn, &user).await?;
                let subject = actor
                    .as_ref()
                    .map(|a| format!("acct:{}@{domain}", a.username))
                    .unwrap_or_default();
                (subject, actor)
            }
        }
        Resource::Url(url) => {
            let is_origin = url.origin() == base.origin()
                && (url.path() == "/" || url.path().is_empty())
                && url.query().is_none();
            if is_origin {
                // FEP-d556: the server origin names the server-level actor.
                let actor = db::actors::by_ap_id(&mut conn, &ctx.urls.instance_actor()).await?;
                (ctx.urls.base().to_string(), actor)
            } else {
                let actor = db::actors::by_ap_id(&mut conn, url.as_str()).await?;
                let subject = actor
                    .as_ref()
                    .map(|a| {
                        if a.kind == "Application" {
                            url.to_string()
                        } else {
                            format!("acct:{}@{domain}", a.username)
                        }
                    })
                    .unwrap_or_default();
                (subject, actor)
            }
        }
    };
    let actor = actor.ok_or_else(AppError::not_found)?;
    if !discoverable(&mut conn, &actor).await? {
        return Err(AppError::not_found());
    }
    let mut links = vec![JrdLink {
        rel: "self".into(),
        kind: Some(ACTIVITY_JSON.into()),
        href: Some(actor.ap_id.clone()),
        template: None,
    }];
    let mut aliases = vec![actor.ap_id.clone()];
    if actor.kind == "Application" {
        links.push(JrdLink {
            rel: "https://www.w3.org/ns/activitystreams#Application".into(),
            kind: Some(ACTIVITY_JSON.into()),
            href: Some(actor.ap_id.clone()),
            template: None,
        });
    } else if let Some(page) = &actor.url {
        if page != &actor.ap_id {
            aliases.push(page.clone());
        }
        links.push(JrdLink {
            rel: "http://webfinger.net/rel/profile-page".into(),
            kind: Some("text/html".into()),
            href: Some(page.clone()),
            template: None,
        });
    }
    Ok(Jrd {
        subject,
        aliases,
        links,
    })
}

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// `GET /.well-known/webfinger?resource=…`
pub async fn http_get_webfinger(
    data: Data,
    Query(query): Query<WebfingerQuery>,
) -> AppResult<Response> {
    let resource = query
        .resource
        .ok_or_else(|| AppError::bad_request("resource: missing"))?;
    let jrd = lookup(&data, &resource).await?;
    Ok(with_type(serde_json::to_string(&jrd)?, JRD_JSON))
}

/// `GET /.well-known/host-meta`: where WebFinger lives (XRD, for older clients).
pub async fn http_get_host_meta(data: Data) -> Response {
    let template = format!(
        "{}/.well-known/webfinger?resource={{uri}}",
        data.app_data().urls.base()
    );
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/xrd+xml\" template=\"{}\"/>\n\
         </XRD>\n",
        xml_escape(&template)
    );
    with_type(body, "application/xrd+xml; charset=utf-8")
}

/// `GET /.well-known/host-meta.json`: the same, as JRD.
pub async fn http_get_host_meta_json(data: Data) -> AppResult<Response> {
    let jrd = serde_json::json!({
        "links": [{
            "rel": "lrdd",
            "type": JRD_JSON,
            "template": format!(
                "{}/.well-known/webfinger?resource={{uri}}",
                data.app_data().urls.base()
            ),
        }]
    });
    Ok(with_type(jrd.to_string(), JRD_JSON))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse() {
        assert_eq!(
            parse_resource("acct:Alice@LocalHost:8080").expect("acct"),
            Resource::Acct {
                user: "Alice".into(),
                host: "localhost:8080".into()
            }
        );
        assert_eq!(
            parse_resource("alice@example.org").expect("bare"),
            Resource::Acct {
                user: "alice".into(),
                host: "example.org".into()
            }
        );
        assert!(matches!(
            parse_resource("https://example.org/users/alice"),
            Ok(Resource::Url(_))
        ));
        assert!(parse_resource("").is_err());
        assert!(parse_resource("acct:nohost").is_err());
        assert!(parse_resource("mailto:x").is_err());
    }
}
