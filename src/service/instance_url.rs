//! The public URL an instance's ids are built from. It is recorded at first start; a start with
//! another `instance.url` stops with both URLs and the way out, instead of failing later on
//! the ids; and an instance that has never federated can move its ids to a new URL.
//!
//! Nobody can move once other servers know the old ids: they keep the old actor ids, key ids
//! and follower collections (Mastodon and GoToSocial cannot change their domain either).

use crate::{
    context::AppContext,
    db::{self, instance_identity::FederationTraces},
    error::AppError,
    service::actors::INSTANCE_ACTOR_USERNAME,
    urls::host_port,
};
use diesel_async::AsyncConnection;
use url::Url;

/// The configured `instance.url` differs from the URL this database's ids were built from.
#[derive(Debug, thiserror::Error)]
#[error(
    "this database belongs to the instance at {recorded}, but instance.url is now {configured}.\n\
     Every ActivityPub id (members, posts, keys) is built from instance.url, so it cannot change \
     silently. Either:\n\
     - keep the old address: set instance.url back to {recorded} \
     (or CULTURECNOUS__INSTANCE__URL={recorded}); or\n\
     - move this instance to {configured}: stop every `culturecnous serve` on this database, run \
     `culturecnous instance move-url {configured}`, then start again. That is possible only while \
     the instance has never federated (no remote follower, follow or delivery); otherwise start \
     a new instance at {configured} with its own database and data folder."
)]
pub struct UrlMismatch {
    pub recorded: String,
    pub configured: String,
}

/// Why [`check_or_record`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Mismatch(#[from] UrlMismatch),
    #[error("reading the recorded instance URL: {0}")]
    Database(#[from] AppError),
}

/// Records `instance.url` on the first start and checks it on every later one. A database
/// created before the URL was recorded has the URL in its instance actor's id: that one is
/// recorded then, so an old instance started with a new URL is caught too.
pub async fn check_or_record(ctx: &AppContext) -> Result<(), CheckError> {
    let configured = ctx.config.base_url();
    let mut conn = ctx.conn().await?;
    let recorded = match db::instance_identity::read(&mut conn)
        .await
        .map_err(AppError::from)?
        .and_then(|row| row.url)
    {
        Some(url) => url,
        None => {
            let in_use =
                db::instance_identity::local_instance_actor_id(&mut conn, INSTANCE_ACTOR_USERNAME)
                    .await
                    .map_err(AppError::from)?
                    .and_then(|id| id.strip_suffix("/actor").map(str::to_string))
                    .unwrap_or_else(|| configured.clone());
            let recorded = db::instance_identity::record_if_absent(&mut conn, &in_use)
                .await
                .map_err(AppError::from)?;
            tracing::info!("instance URL recorded: {recorded}");
            recorded
        }
    };
    if same_url(&recorded, &configured) {
        Ok(())
    } else {
        Err(UrlMismatch {
            recorded,
            configured,
        }
        .into())
    }
}

/// What [`move_url`] did.
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: String,
    pub to: String,
    /// Values rewritten (ids, links, domains), over all tables.
    pub values: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(
        "{url} cannot be the instance URL: it must be the site root, http:// or https://, \
         with a host and no path, query or fragment (e.g. https://culture.example)"
    )]
    InvalidUrl { url: String },
    #[error("the instance is already at {url}: nothing to move")]
    AlreadyThere { url: String },
    #[error(
        "refused: other servers already know the ids under {from} ({traces}). Moving them \
         would break every follow and signature there. Keep instance.url = {from}, or start a \
         new instance at {to} with its own database and data folder."
    )]
    Federated {
        from: String,
        to: String,
        traces: String,
    },
    #[error(transparent)]
    Database(#[from] AppError),
}

impl From<diesel::result::Error> for MoveError {
    fn from(e: diesel::result::Error) -> Self {
        MoveError::Database(e.into())
    }
}

/// Moves every local id from the recorded URL to `new_url`, in one transaction, unless the
/// instance has federated. `instance.url` must then be set to `new_url` before the next start.
pub async fn move_url(ctx: &AppContext, new_url: &str) -> Result<Moved, MoveError> {
    let to = normalise(new_url).ok_or_else(|| MoveError::InvalidUrl {
        url: new_url.to_string(),
    })?;
    let new_domain = host_port_of(&to).ok_or_else(|| MoveError::InvalidUrl {
        url: new_url.to_string(),
    })?;
    let configured = ctx.config.base_url();
    let mut conn = ctx.conn().await?;
    conn.transaction::<Moved, MoveError, _>(async |conn| {
        let row = db::instance_identity::read_for_update(conn).await?;
        let from = match row.as_ref().and_then(|r| r.url.clone()) {
            Some(url) => url,
            None => db::instance_identity::local_instance_actor_id(conn, INSTANCE_ACTOR_USERNAME)
                .await?
                .and_then(|id| id.strip_suffix("/actor").map(str::to_string))
                .unwrap_or(configured),
        };
        if same_url(&from, &to) {
            return Err(MoveError::AlreadyThere { url: from });
        }
        let traces = db::instance_identity::federation_traces(conn).await?;
        let first_federated = row.and_then(|r| r.first_federated_at);
        if let Some(traces) = describe_traces(&traces, first_federated) {
            return Err(MoveError::Federated { from, to, traces });
        }
        let old_domain = host_port_of(&from).unwrap_or_default();
        let values =
            db::instance_identity::rewrite_local_ids(conn, &from, &to, &old_domain, &new_domain)
                .await?;
        db::instance_identity::record_if_absent(conn, &from).await?;
        db::instance_identity::set_moved(conn, &from, &to).await?;
        Ok(Moved { from, to, values })
    })
    .await
}

/// `None` when nothing shows that another server knows our ids; else what does, for people.
fn describe_traces(
    traces: &FederationTraces,
    first_federated: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<String> {
    let mut found = Vec::new();
    if let Some(at) = first_federated {
        found.push(format!(
            "a delivery to another server was queued on {}",
            at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let counted = [
        (traces.remote_follows, "follow(s) with remote accounts"),
        (traces.deliveries, "queued delivery(ies)"),
        (traces.received_activities, "activity(ies) received"),
        (traces.remote_comments, "remote comment(s)"),
        (traces.remote_reactions, "remote like(s) or boost(s)"),
    ];
    for (n, what) in counted {
        if n > 0 {
            found.push(format!("{n} {what}"));
        }
    }
    (!found.is_empty()).then(|| found.join(", "))
}

/// The site root of `url` without the trailing slash, if it is a valid `instance.url`.
fn normalise(url: &str) -> Option<String> {
    let parsed = Url::parse(url.trim()).ok()?;
    let valid = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.path() == "/"
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    valid.then(|| parsed.as_str().trim_end_matches('/').to_string())
}

fn host_port_of(url: &str) -> Option<String> {
    Url::parse(url).ok().as_ref().and_then(host_port)
}

/// Two spellings of one site root (`HTTP://Example.org/` and `http://example.org`) are the
/// same URL.
fn same_url(a: &str, b: &str) -> bool {
    match (normalise(a), normalise(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.trim_end_matches('/') == b.trim_end_matches('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_roots_are_normalised() {
        assert_eq!(
            normalise("HTTPS://Culture.Example/").as_deref(),
            Some("https://culture.example")
        );
        assert_eq!(
            normalise("http://localhost:8081").as_deref(),
            Some("http://localhost:8081")
        );
        assert_eq!(normalise("https://culture.example/sub"), None);
        assert_eq!(normalise("ftp://culture.example"), None);
        assert_eq!(normalise("culture.example"), None);
        assert_eq!(normalise("https://culture.example/?a=b"), None);
        assert!(same_url("http://localhost:8080/", "http://localhost:8080"));
        assert!(!same_url("http://localhost:8080", "http://localhost:8081"));
    }

    #[test]
    fn traces_are_described_only_when_present() {
        assert_eq!(describe_traces(&FederationTraces::default(), None), None);
        let traces = FederationTraces {
            remote_follows: 2,
            ..FederationTraces::default()
        };
        let text = describe_traces(&traces, None).unwrap_or_default();
        assert!(text.contains("2 follow(s) with remote accounts"), "{text}");
    }
}
