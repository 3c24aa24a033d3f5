//! Blocked domains.
//!
//! `reject` cuts the domain off both ways: nothing from it gets in (the inbox answers 202 and
//! drops it before fetching anything), nothing goes out to it (nothing new is queued there;
//! queued deliveries are dropped when the block is made and whenever a worker would claim one; the outbound client refuses
//! every request there, fetches and WebFinger included, before any network traffic), follows
//! in both directions are removed, and members cannot follow or react to its accounts again.
//!
//! `silence` is what Mastodon calls "limit": follows stay, and what its accounts send is stored
//! and reaches the members who follow them (their timeline), but never the public lists: their
//! replies are left out of the comment lists under our posts (remote posts never appear in the
//! public lists and feeds, which show local publications only).
//!
//! A block on `example.org` also covers its subdomains and every port; a block on
//! `example.org:8443` covers that port only. The inbox reads the blocks through [`BlockCache`]
//! (one small query per [`CACHE_TTL`] per process), so a new block takes effect within that
//! time on every node.

use crate::{
    context::AppContext,
    db::{
        self, Conn, accounts::DbAccount, domain_blocks::DbDomainBlock,
        moderation_actions::NewModerationAction,
    },
    error::{AppError, AppResult},
    service::moderation::{self, ActionKind},
    urls::host_port,
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use url::Url;

/// How long the inbox trusts its copy of the blocks.
pub const CACHE_TTL: Duration = Duration::from_secs(15);
/// Longest domain accepted (a DNS name is at most 253 characters, plus a port).
const MAX_DOMAIN_LEN: usize = 260;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Silence,
    Reject,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Silence => db::domain_blocks::SILENCE,
            Severity::Reject => db::domain_blocks::REJECT,
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            db::domain_blocks::SILENCE => Some(Severity::Silence),
            db::domain_blocks::REJECT => Some(Severity::Reject),
            _ => None,
        }
    }
}

/// `host` or `host:port`, lower case, as typed by an administrator (a leading scheme and a
/// trailing slash are tolerated).
pub fn normalize_domain(input: &str) -> AppResult<String> {
    let trimmed = input.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    let domain = without_scheme.to_ascii_lowercase();
    if domain.is_empty() {
        return Err(AppError::field("domain", "field.required"));
    }
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain.as_str(), None),
    };
    let host_ok = !host.is_empty()
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !host.contains("..")
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    if domain.len() > MAX_DOMAIN_LEN || !host_ok || !port_ok {
        return Err(AppError::field("domain", "field.domain.invalid"));
    }
    Ok(domain)
}

/// The block entries that would cover `host_port` (`a.b.example:8080`): itself, the bare
/// host, then each parent domain (`b.example`, `example`).
pub fn candidates(host_port: &str) -> Vec<String> {
    let lower = host_port.to_ascii_lowercase();
    let mut out = vec![lower.clone()];
    let host = match lower.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => lower.clone(),
    };
    if host != lower {
        out.push(host.clone());
    }
    let mut rest = host.as_str();
    while let Some((_, parent)) = rest.split_once('.') {
        if parent.is_empty() {
            break;
        }
        out.push(parent.to_string());
        rest = parent;
    }
    out
}

/// The strongest block among `blocks` covering `host_port`.
fn strongest<'a>(
    host_port: &str,
    lookup: impl Fn(&str) -> Option<&'a Severity>,
) -> Option<Severity> {
    candidates(host_port)
        .iter()
        .filter_map(|c| lookup(c).copied())
        .max()
}

/// The strongest block covering `host_port`, read from the database (for outbound actions).
pub async fn severity_of(conn: &mut Conn, host_port: &str) -> AppResult<Option<Severity>> {
    let blocks = db::domain_blocks::matching(conn, &candidates(host_port)).await?;
    Ok(blocks
        .iter()
        .filter_map(|b| Severity::parse(&b.severity))
        .max())
}

/// Refuses an outbound action (follow, like, boost) towards a rejected domain, as an error
/// on `field`.
pub async fn refuse_rejected(conn: &mut Conn, host_port: &str, field: &str) -> AppResult<()> {
    if severity_of(conn, host_port).await? == Some(Severity::Reject) {
        return Err(AppError::field(field, "field.domain.blocked"));
    }
    Ok(())
}

/// The optional parts of a block.
#[derive(Debug, Clone, Default)]
pub struct BlockOptions {
    /// What may be shown publicly about the block.
    pub public_comment: String,
    /// The moderators' note.
    pub private_comment: String,
    /// Refuse reports from the domain.
    pub reject_reports: bool,
}

/// A block as made, with what it cut.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub block: DbDomainBlock,
    /// A new block (`false`: an existing block was changed).
    pub created: bool,
    /// Queued deliveries to the domain, dropped (`reject` only).
    pub deliveries_dropped: usize,
    /// Follows between our accounts and the domain's, removed (`reject` only).
    pub follows_removed: usize,
}

/// Blocks `domain` (or changes its block) from the command line: no account acts, the
/// moderators' log records the entry without one. See [`block_by`].
pub async fn block(
    ctx: &AppContext,
    domain: &str,
    severity: Severity,
    options: &BlockOptions,
) -> AppResult<Blocked> {
    block_by(ctx, None, domain, severity, options).await
}

/// Blocks `domain` (or changes its block) and, for `reject`, applies its effects in the same
/// transaction: queued deliveries there dropped, follows in both directions removed. `by` is
/// the admin acting (`None` from the command line); the moderators' log gets one entry in the
/// same transaction.
pub async fn block_by(
    ctx: &AppContext,
    by: Option<&DbAccount>,
    domain: &str,
    severity: Severity,
    options: &BlockOptions,
) -> AppResult<Blocked> {
    use diesel_async::AsyncConnection as _;
    if let Some(account) = by {
        moderation::ensure_admin(account)?;
    }
    let domain = blockable(ctx, domain)?;
    let by_id = by.map(|a| a.id);
    let mut conn = ctx.conn().await?;
    let blocked = conn
        .transaction::<Blocked, AppError, _>(async |conn| {
            let previous = db::domain_blocks::find(conn, &domain).await?;
            let block = db::domain_blocks::upsert(
                conn,
                &db::domain_blocks::NewDomainBlock {
                    domain: &domain,
                    severity: severity.as_str(),
                    reason: options.private_comment.trim(),
                    public_comment: options.public_comment.trim(),
                    reject_reports: options.reject_reports,
                },
            )
            .await?;
            let (deliveries_dropped, follows_removed) = if severity == Severity::Reject {
                (
                    db::domain_blocks::drop_pending_deliveries(conn, &domain).await?,
                    db::domain_blocks::drop_follows(conn, &domain).await?,
                )
            } else {
                (0, 0)
            };
            moderation::log(
                conn,
                NewModerationAction {
                    moderator_account_id: by_id,
                    action: ActionKind::DomainBlock.as_str().to_string(),
                    target: block.domain.clone(),
                    note: block.reason.clone(),
                    details: serde_json::json!({
                        "severity": block.severity,
                        "reject_reports": block.reject_reports,
                        "public_comment": block.public_comment,
                        "previous_severity": previous.as_ref().map(|p| p.severity.clone()),
                        "deliveries_dropped": deliveries_dropped,
                        "follows_removed": follows_removed,
                    }),
                    ..Default::default()
                },
            )
            .await?;
            Ok(Blocked {
                block,
                created: previous.is_none(),
                deliveries_dropped,
                follows_removed,
            })
        })
        .await?;
    ctx.blocks.invalidate();
    tracing::info!(
        "domain {domain} blocked ({}): {} queued deliveries dropped, {} follows removed",
        severity.as_str(),
        blocked.deliveries_dropped,
        blocked.follows_removed
    );
    Ok(blocked)
}

/// `domain` normalised, or the error naming `domain`: not a domain name, or this instance's
/// own (or a parent of it).
pub fn blockable(ctx: &AppContext, domain: &str) -> AppResult<String> {
    let domain = normalize_domain(domain)?;
    if candidates(&ctx.config.domain()).contains(&domain) {
        return Err(AppError::field("domain", "field.domain.own"));
    }
    Ok(domain)
}

/// What a `reject` block of `domain` would cut now: (queued deliveries, follows). Shown
/// before an admin confirms it.
pub async fn reject_effects(ctx: &AppContext, domain: &str) -> AppResult<(i64, i64)> {
    let domain = normalize_domain(domain)?;
    let mut conn = ctx.conn().await?;
    Ok((
        db::domain_blocks::count_pending_deliveries(&mut conn, &domain).await?,
        db::domain_blocks::count_follows(&mut conn, &domain).await?,
    ))
}

/// Lifts the block on `domain` from the command line; `false` when there was none. Removed
/// follows stay removed. See [`unblock_by`].
pub async fn unblock(ctx: &AppContext, domain: &str) -> AppResult<bool> {
    Ok(unblock_by(ctx, None, domain).await?.is_some())
}

/// Lifts the block on `domain` (`by`: the admin acting, `None` from the command line) and
/// logs it in the same transaction; the lifted block, or `None` when there was none.
pub async fn unblock_by(
    ctx: &AppContext,
    by: Option<&DbAccount>,
    domain: &str,
) -> AppResult<Option<DbDomainBlock>> {
    use diesel_async::AsyncConnection as _;
    if let Some(account) = by {
        moderation::ensure_admin(account)?;
    }
    let domain = normalize_domain(domain)?;
    let by_id = by.map(|a| a.id);
    let mut conn = ctx.conn().await?;
    let removed = conn
        .transaction::<Option<DbDomainBlock>, AppError, _>(async |conn| {
            let Some(removed) = db::domain_blocks::delete_returning(conn, &domain).await? else {
                return Ok(None);
            };
            moderation::log(
                conn,
                NewModerationAction {
                    moderator_account_id: by_id,
                    action: ActionKind::DomainUnblock.as_str().to_string(),
                    target: removed.domain.clone(),
                    note: removed.reason.clone(),
                    details: serde_json::json!({
                        "severity": removed.severity,
                        "reject_reports": removed.reject_reports,
                    }),
                    ..Default::default()
                },
            )
            .await?;
            Ok(Some(removed))
        })
        .await?;
    ctx.blocks.invalidate();
    Ok(removed)
}

/// The block on exactly `domain` (normalised first), if any.
pub async fn get(ctx: &AppContext, domain: &str) -> AppResult<Option<DbDomainBlock>> {
    let domain = normalize_domain(domain)?;
    let mut conn = ctx.conn().await?;
    Ok(db::domain_blocks::find(&mut conn, &domain).await?)
}

/// Every block, sorted by domain.
pub async fn list(ctx: &AppContext) -> AppResult<Vec<DbDomainBlock>> {
    let mut conn = ctx.conn().await?;
    Ok(db::domain_blocks::all(&mut conn).await?)
}

/// The inbox's copy of the blocks, reloaded at most once per [`CACHE_TTL`]: the check costs a
/// few hash lookups instead of a query per activity.
#[derive(Default)]
pub struct BlockCache {
    state: Mutex<Option<(Instant, Blocks)>>,
}

/// Block entries by domain, and the domains whose reports are refused.
type Blocks = Arc<BlockMap>;

#[derive(Default)]
struct BlockMap {
    severity: HashMap<String, Severity>,
    /// Blocks marked "reject reports" (whatever their severity).
    reject_reports: std::collections::HashSet<String>,
}

impl BlockCache {
    fn fresh(&self) -> Option<Blocks> {
        let guard = self.state.lock().ok()?;
        match &*guard {
            Some((loaded, map)) if loaded.elapsed() < CACHE_TTL => Some(map.clone()),
            _ => None,
        }
    }

    async fn blocks(&self, ctx: &AppContext) -> AppResult<Blocks> {
        if let Some(map) = self.fresh() {
            return Ok(map);
        }
        let mut conn = ctx.conn().await?;
        self.blocks_on(&mut conn).await
    }

    /// The blocks, re-read on `conn` when the copy is stale: a caller inside a transaction
    /// does not take a second connection from the pool.
    async fn blocks_on(&self, conn: &mut Conn) -> AppResult<Blocks> {
        if let Some(map) = self.fresh() {
            return Ok(map);
        }
        let rows = db::domain_blocks::all(conn).await?;
        let reject_reports = rows
            .iter()
            .filter(|b| b.reject_reports)
            .map(|b| b.domain.clone())
            .collect();
        let severity = rows
            .into_iter()
            .filter_map(|b| Severity::parse(&b.severity).map(|s| (b.domain, s)))
            .collect();
        let map = Arc::new(BlockMap {
            severity,
            reject_reports,
        });
        if let Ok(mut guard) = self.state.lock() {
            *guard = Some((Instant::now(), map.clone()));
        }
        Ok(map)
    }

    /// The strongest block covering any of `hosts` (`host[:port]`).
    pub async fn severity(&self, ctx: &AppContext, hosts: &[&str]) -> AppResult<Option<Severity>> {
        let map = self.blocks(ctx).await?;
        if map.severity.is_empty() {
            return Ok(None);
        }
        Ok(hosts
            .iter()
            .filter_map(|h| strongest(h, |c| map.severity.get(c)))
            .max())
    }

    /// Whether reports (`Flag`s) from any of `hosts` (`host[:port]`) are refused: a block
    /// covering it is marked "reject reports".
    pub async fn rejects_reports(&self, ctx: &AppContext, hosts: &[&str]) -> AppResult<bool> {
        let map = self.blocks(ctx).await?;
        if map.reject_reports.is_empty() {
            return Ok(false);
        }
        Ok(hosts
            .iter()
            .any(|h| candidates(h).iter().any(|c| map.reject_reports.contains(c))))
    }

    /// `urls` without those on a rejected domain (or a subdomain of one): nothing new is
    /// queued for a server we cut off.
    pub async fn without_rejected(&self, conn: &mut Conn, urls: Vec<Url>) -> AppResult<Vec<Url>> {
        let map = self.blocks_on(conn).await?;
        if map.severity.is_empty() {
            return Ok(urls);
        }
        Ok(urls
            .into_iter()
            .filter(|url| {
                host_port(url).is_none_or(|host| {
                    strongest(&host, |c| map.severity.get(c)) != Some(Severity::Reject)
                })
            })
            .collect())
    }

    /// Forgets the copy (the next check reads the database).
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.state.lock() {
            *guard = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_or_refused() {
        assert_eq!(
            normalize_domain(" Bad.Example ").expect("ok"),
            "bad.example"
        );
        assert_eq!(
            normalize_domain("https://bad.example:8443/").expect("ok"),
            "bad.example:8443"
        );
        for bad in [
            "",
            "bad example",
            "bad.example/path",
            "a@b",
            ".x",
            "x:port",
            "x:99999",
        ] {
            let e = normalize_domain(bad).expect_err(bad);
            assert_eq!(e.fields[0].field, "domain", "{bad}");
        }
    }

    #[test]
    fn a_block_covers_subdomains_and_ports() {
        assert_eq!(
            candidates("A.b.example:8080"),
            vec!["a.b.example:8080", "a.b.example", "b.example", "example"]
        );
        let mut map = HashMap::new();
        map.insert("b.example".to_string(), Severity::Silence);
        map.insert("a.b.example:8080".to_string(), Severity::Reject);
        assert_eq!(
            strongest("a.b.example:8080", |c| map.get(c)),
            Some(Severity::Reject)
        );
        assert_eq!(
            strongest("a.b.example:9090", |c| map.get(c)),
            Some(Severity::Silence)
        );
        assert_eq!(strongest("nb.example", |c| map.get(c)), None);
        assert_eq!(strongest("other.example", |c| map.get(c)), None);
    }
}
