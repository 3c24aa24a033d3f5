//! Claim invitations: the département's team invites the actor of a listed entry (imported,
//! unclaimed) to take it over as their account. The invitation is a random token mailed to
//! the entry's address; only its SHA-256 is stored. It is single use and expires after
//! [`VALIDITY_DAYS`] days. Using it creates the account (address taken as confirmed, kind and
//! directory fields from the entry), marks the entry claimed and the invitation used, in one
//! transaction (`service::accounts::create_claiming`).
//!
//! An entry marked `is_venue` becomes an account of directory kind `lieu` and, in the same
//! transaction, a venue (with its actor) that the account manages.

use crate::{
    context::AppContext,
    db::accounts::DbAccount,
    error::{AppError, AppResult, ErrorKind},
    service::{
        accounts::{self, NewAccountInput},
        communes,
        mail::{self, MailBody, MailCategory, OutgoingMail},
        tokens, venues,
    },
};
use chrono::{DateTime, Utc};
use diesel::{
    QueryableByName,
    sql_types::{Array, BigInt, Bool, Float8, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

pub const VALIDITY_DAYS: i64 = 30;
/// Invitations queued per transaction when inviting everyone.
pub const INVITE_BATCH: usize = 200;
/// The claim page: `/annuaire/revendiquer/{token}`.
pub const CLAIM_PATH: &str = "/annuaire/revendiquer/";

/// A listed entry, as the admin page and the claim page show it.
#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Entry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Array<Text>)]
    pub disciplines: Vec<String>,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub phone: String,
    #[diesel(sql_type = Text)]
    pub address: String,
    #[diesel(sql_type = Text)]
    pub postal_code: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub commune_code: Option<String>,
    #[diesel(sql_type = Text)]
    pub commune: String,
    #[diesel(sql_type = Text)]
    pub website: String,
    #[diesel(sql_type = Nullable<Float8>)]
    pub latitude: Option<f64>,
    #[diesel(sql_type = Nullable<Float8>)]
    pub longitude: Option<f64>,
    #[diesel(sql_type = Bool)]
    pub is_venue: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub claimed_at: Option<DateTime<Utc>>,
    /// The account that claimed it.
    #[diesel(sql_type = Nullable<Text>)]
    pub username: Option<String>,
    /// When the last invitation was sent.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub invited_at: Option<DateTime<Utc>>,
}

const ENTRY_COLUMNS: &str = "e.id, e.name, e.kind, e.disciplines, e.email, e.phone, e.address,
    e.postal_code, e.commune_code, COALESCE(c.name, '') AS commune, e.website, e.latitude,
    e.longitude, e.is_venue, e.claimed_at, a.username,
    (SELECT max(i.created_at) FROM claim_invitations i WHERE i.entry_id = e.id) AS invited_at";
const ENTRY_FROM: &str = "FROM directory_entries e
    LEFT JOIN communes c ON c.code = e.commune_code
    LEFT JOIN accounts a ON a.id = e.account_id";

/// The département's team runs the directory's import and invitations: administrators and
/// staff (moderators moderate content; they are not the team that knows the territory).
pub fn ensure_directory_team(account: &DbAccount) -> AppResult<()> {
    if account.suspended_at.is_none() && accounts::is_staff(account) {
        Ok(())
    } else {
        Err(AppError::forbidden("administrators and staff only"))
    }
}

/// What the entry list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Claimed,
    /// Invited, not claimed yet.
    Invited,
    /// With an address, never invited, not claimed.
    NotInvited,
    NoEmail,
}

impl Filter {
    pub const ALL: &'static [Filter] = &[
        Filter::All,
        Filter::Claimed,
        Filter::Invited,
        Filter::NotInvited,
        Filter::NoEmail,
    ];

    pub fn parse(s: &str) -> Filter {
        match s {
            "claimed" => Filter::Claimed,
            "invited" => Filter::Invited,
            "not_invited" => Filter::NotInvited,
            "no_email" => Filter::NoEmail,
            _ => Filter::All,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Claimed => "claimed",
            Filter::Invited => "invited",
            Filter::NotInvited => "not_invited",
            Filter::NoEmail => "no_email",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Filter::All => "admin.directory.filter.all",
            Filter::Claimed => "admin.directory.filter.claimed",
            Filter::Invited => "admin.directory.filter.invited",
            Filter::NotInvited => "admin.directory.filter.not_invited",
            Filter::NoEmail => "admin.directory.filter.no_email",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Filter::All => "TRUE",
            Filter::Claimed => "e.claimed_at IS NOT NULL",
            Filter::Invited => {
                "e.claimed_at IS NULL AND EXISTS (SELECT 1 FROM claim_invitations i \
                 WHERE i.entry_id = e.id)"
            }
            Filter::NotInvited => {
                "e.claimed_at IS NULL AND e.email <> '' AND NOT EXISTS \
                 (SELECT 1 FROM claim_invitations i WHERE i.entry_id = e.id)"
            }
            Filter::NoEmail => "e.claimed_at IS NULL AND e.email = ''",
        }
    }
}

/// The claim rate and the state of the invitations.
#[derive(Debug, Clone, Default, Serialize, QueryableByName, PartialEq)]
pub struct Counts {
    /// Listed entries.
    #[diesel(sql_type = BigInt)]
    pub listed: i64,
    /// Entries taken over by their account ("N comptes activés sur M fiches listées").
    #[diesel(sql_type = BigInt)]
    pub claimed: i64,
    #[diesel(sql_type = BigInt)]
    pub invited: i64,
    #[diesel(sql_type = BigInt)]
    pub not_invited: i64,
    #[diesel(sql_type = BigInt)]
    pub no_email: i64,
}

pub async fn counts(ctx: &AppContext) -> AppResult<Counts> {
    let mut conn = ctx.conn().await?;
    let sql = format!(
        "SELECT count(*) AS listed,
            count(*) FILTER (WHERE {}) AS claimed,
            count(*) FILTER (WHERE {}) AS invited,
            count(*) FILTER (WHERE {}) AS not_invited,
            count(*) FILTER (WHERE {}) AS no_email
         FROM directory_entries e",
        Filter::Claimed.sql(),
        Filter::Invited.sql(),
        Filter::NotInvited.sql(),
        Filter::NoEmail.sql()
    );
    Ok(diesel::sql_query(sql).get_result(&mut conn).await?)
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

pub const PAGE_SIZE: i64 = 50;

/// One page of entries matching `filter`, a name (`q`, accents and case forgiven) and a
/// commune; and how many match in all.
pub async fn list(
    ctx: &AppContext,
    filter: Filter,
    q: &str,
    commune: Option<&str>,
    page: i64,
) -> AppResult<(Vec<Entry>, i64)> {
    let mut conn = ctx.conn().await?;
    let q = q.trim();
    let q = if q.chars().count() > 200 {
        q.chars().take(200).collect()
    } else {
        q.to_string()
    };
    let condition = format!(
        "{} AND ($1 = '' OR e.search_name LIKE '%' || cc_search_name($1) || '%')
         AND ($2::text IS NULL OR e.commune_code = $2)",
        filter.sql()
    );
    let total: Total = diesel::sql_query(format!(
        "SELECT count(*) AS total {ENTRY_FROM} WHERE {condition}"
    ))
    .bind::<Text, _>(&q)
    .bind::<Nullable<Text>, _>(commune)
    .get_result(&mut conn)
    .await?;
    let entries = diesel::sql_query(format!(
        "SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE {condition}
         ORDER BY e.search_name, e.id LIMIT $3 OFFSET $4"
    ))
    .bind::<Text, _>(&q)
    .bind::<Nullable<Text>, _>(commune)
    .bind::<BigInt, _>(PAGE_SIZE)
    .bind::<BigInt, _>(page.max(0).saturating_mul(PAGE_SIZE))
    .load(&mut conn)
    .await?;
    Ok((entries, total.total))
}

/// What sending invitations did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct InviteCounts {
    /// Invitations mailed.
    pub invited: u64,
    /// Entries asked for that have no address.
    pub skipped_no_email: u64,
    /// Entries asked for that are claimed already.
    pub skipped_claimed: u64,
}

#[derive(QueryableByName)]
struct Target {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Bool)]
    claimed: bool,
}

/// Mails claim invitations: to `entry_ids` (sending again to those already invited; their
/// earlier links stop working), or with `None` to every unclaimed entry with an address that
/// was never invited. Queued in batches of [`INVITE_BATCH`], one transaction each.
pub async fn invite(
    ctx: &AppContext,
    sent_by: Option<&DbAccount>,
    entry_ids: Option<&[i64]>,
) -> AppResult<InviteCounts> {
    let mut counts = InviteCounts::default();
    let mut conn = ctx.conn().await?;
    let mut after = 0i64;
    loop {
        let targets: Vec<Target> = match entry_ids {
            Some(ids) => {
                let ids: Vec<i64> = ids.iter().copied().filter(|&i| i > after).collect();
                diesel::sql_query(
                    "SELECT id, name, email, claimed_at IS NOT NULL AS claimed
                     FROM directory_entries WHERE id = ANY($1) ORDER BY id LIMIT $2",
                )
                .bind::<Array<BigInt>, _>(ids)
                .bind::<BigInt, _>(INVITE_BATCH as i64)
                .load(&mut conn)
                .await?
            }
            None => {
                diesel::sql_query(format!(
                    "SELECT e.id, e.name, e.email, FALSE AS claimed FROM directory_entries e
                     WHERE {} AND e.id > $1 ORDER BY e.id LIMIT $2",
                    Filter::NotInvited.sql()
                ))
                .bind::<BigInt, _>(after)
                .bind::<BigInt, _>(INVITE_BATCH as i64)
                .load(&mut conn)
                .await?
            }
        };
        let Some(last) = targets.last() else {
            break;
        };
        after = last.id;
        let mut sendable = Vec::new();
        for t in targets {
            if t.claimed {
                counts.skipped_claimed += 1;
            } else if t.email.is_empty() {
                counts.skipped_no_email += 1;
            } else {
                sendable.push(t);
            }
        }
        if sendable.is_empty() {
            continue;
        }
        let sent = sendable.len() as u64;
        let sent_by = sent_by.map(|a| a.id);
        conn.transaction::<_, AppError, _>(async |conn| {
            let ids: Vec<i64> = sendable.iter().map(|t| t.id).collect();
            // A new invitation replaces the earlier ones.
            diesel::sql_query(
                "UPDATE claim_invitations SET expires_at = LEAST(expires_at, now())
                 WHERE entry_id = ANY($1) AND used_at IS NULL",
            )
            .bind::<Array<BigInt>, _>(&ids)
            .execute(conn)
            .await?;
            let mut hashes = Vec::with_capacity(sendable.len());
            let mut mails = Vec::with_capacity(sendable.len());
            for t in &sendable {
                let secret = tokens::new_secret();
                hashes.push(tokens::hash_token(&secret));
                mails.push(invitation_mail(ctx, &t.name, &t.email, &secret));
            }
            diesel::sql_query(
                "INSERT INTO claim_invitations (token_hash, entry_id, email, sent_by, expires_at)
                 SELECT h, e, m, $4, now() + make_interval(days => $5)
                 FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(h, e, m)",
            )
            .bind::<Array<Text>, _>(hashes)
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Array<Text>, _>(sendable.iter().map(|t| t.email.clone()).collect::<Vec<_>>())
            .bind::<Nullable<BigInt>, _>(sent_by)
            .bind::<diesel::sql_types::Integer, _>(VALIDITY_DAYS as i32)
            .execute(conn)
            .await?;
            mail::enqueue_many(conn, ctx, mails).await?;
            Ok(())
        })
        .await?;
        counts.invited += sent;
    }
    Ok(counts)
}

/// The invitation mail, in French (the département's language) first.
fn invitation_mail(ctx: &AppContext, name: &str, to: &str, secret: &str) -> OutgoingMail {
    let lang = ctx.lang_or_default(None);
    let instance = &ctx.config.instance.name;
    let fill = |key: &str| {
        lang.t(key)
            .replace("{instance}", instance)
            .replace("{name}", name)
    };
    let url = ctx.urls.absolute(&format!("{CLAIM_PATH}{secret}"));
    let body = MailBody {
        greeting: lang.t("mail.greeting").replace("{name}", name),
        paragraphs: vec![fill("mail.claim.text"), fill("mail.claim.how")],
        action: Some((lang.t("mail.claim.action").to_string(), url)),
        footer: vec![fill("mail.claim.ignore")],
    };
    let (text, html) = body.render(lang, instance);
    OutgoingMail {
        account_id: None,
        to: to.to_string(),
        lang,
        category: MailCategory::ClaimInvitation,
        subject: fill("mail.claim.subject"),
        text,
        html,
        unsubscribe_url: None,
    }
}

/// An invitation that can still be used, and its entry.
#[derive(Debug, Clone)]
pub struct ClaimTarget {
    pub token_hash: String,
    pub entry: Entry,
    /// The venue made with the account when the entry `is_venue` (checked beforehand).
    pub venue: Option<venues::PreparedVenue>,
}

#[derive(QueryableByName)]
struct InvitationRow {
    #[diesel(sql_type = BigInt)]
    entry_id: i64,
    #[diesel(sql_type = Timestamptz)]
    expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    used_at: Option<DateTime<Utc>>,
}

/// The invitation of a link: 404 when unknown, 410 when used, expired or its entry claimed.
pub async fn lookup(ctx: &AppContext, token: &str) -> AppResult<ClaimTarget> {
    let token_hash = tokens::hash_token(token.trim());
    let mut conn = ctx.conn().await?;
    let invitation: Option<InvitationRow> = diesel::sql_query(
        "SELECT entry_id, expires_at, used_at FROM claim_invitations WHERE token_hash = $1",
    )
    .bind::<Text, _>(&token_hash)
    .get_result(&mut conn)
    .await
    .map(Some)
    .or_else(|e| match e {
        diesel::result::Error::NotFound => Ok(None),
        e => Err(e),
    })?;
    let invitation = invitation.ok_or_else(|| {
        AppError::new(ErrorKind::NotFound, "unknown claim invitation").with_message("claim.unknown")
    })?;
    if invitation.used_at.is_some() || invitation.expires_at <= Utc::now() {
        return Err(gone());
    }
    let entry: Entry = diesel::sql_query(format!(
        "SELECT {ENTRY_COLUMNS} {ENTRY_FROM} WHERE e.id = $1"
    ))
    .bind::<BigInt, _>(invitation.entry_id)
    .get_result(&mut conn)
    .await?;
    if entry.claimed_at.is_some() {
        return Err(gone());
    }
    Ok(ClaimTarget {
        token_hash,
        entry,
        venue: None,
    })
}

fn gone() -> AppError {
    AppError::new(
        ErrorKind::Gone,
        "this claim invitation was used or has expired: ask the département for a new one",
    )
    .with_message("claim.gone")
}

/// A username suggested from the entry's name: "Cie des Trois Pommes" → `cie_des_trois_pommes`.
pub fn suggest_username(name: &str) -> String {
    let mut s: String = communes::normalize(name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    s = s.trim_matches('_').to_string();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let mut s: String = s.chars().take(30).collect();
    s = s.trim_end_matches('_').to_string();
    while s.len() < 3 {
        s.push('_');
    }
    s
}

/// Claims the entry of invitation `token`: creates the account and takes the entry over, in
/// one transaction. Field errors name `username` and `password`.
pub async fn claim(
    ctx: &AppContext,
    token: &str,
    username: &str,
    password: &str,
) -> AppResult<DbAccount> {
    let mut target = lookup(ctx, token).await?;
    if target.entry.is_venue {
        target.venue = Some(venues::prepare(ctx, &venue_input(&target.entry)).await?);
    }
    let kind = crate::service::directory::DirectoryKind::parse(&target.entry.kind);
    let individual = kind == Some(crate::service::directory::DirectoryKind::Artiste);
    let input = NewAccountInput {
        username: username.to_string(),
        email: target.entry.email.clone(),
        password: password.to_string(),
        kind: if individual {
            "individual"
        } else {
            "structure"
        }
        .to_string(),
        role: "member".to_string(),
        display_name: target.entry.name.chars().take(100).collect(),
    };
    accounts::create_claiming(ctx, input, &target).await
}

/// The venue of a listed entry marked `is_venue`, from what the département knew of it.
fn venue_input(e: &Entry) -> venues::VenueInput {
    venues::VenueInput {
        name: e.name.chars().take(150).collect(),
        address: e.address.clone(),
        commune: e.commune_code.clone().unwrap_or_default(),
        postal_code: e.postal_code.clone(),
        latitude: e.latitude,
        longitude: e.longitude,
        disciplines: e.disciplines.clone(),
        contact_email: e.email.clone(),
        contact_phone: e.phone.clone(),
        website: e.website.clone(),
        ..Default::default()
    }
}

/// Inside the account's creation transaction: uses the invitation, marks the entry claimed
/// and copies its directory fields onto the account; an entry marked `is_venue` also becomes
/// a venue the new account manages (its actor included). A second use racing this one finds
/// the invitation used and rolls back.
pub async fn take_over(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    target: &ClaimTarget,
) -> AppResult<()> {
    let used = diesel::sql_query(
        "UPDATE claim_invitations SET used_at = now()
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()",
    )
    .bind::<Text, _>(&target.token_hash)
    .execute(conn)
    .await?;
    let claimed = diesel::sql_query(
        "UPDATE directory_entries SET claimed_at = now(), account_id = $1, updated_at = now()
         WHERE id = $2 AND claimed_at IS NULL",
    )
    .bind::<BigInt, _>(account.id)
    .bind::<BigInt, _>(target.entry.id)
    .execute(conn)
    .await?;
    if used != 1 || claimed != 1 {
        return Err(gone());
    }
    let e = &target.entry;
    let directory_kind = if e.is_venue { "lieu" } else { e.kind.as_str() };
    let links: Vec<String> = if e.website.is_empty() {
        Vec::new()
    } else {
        vec![e.website.clone()]
    };
    diesel::sql_query(
        "UPDATE accounts SET directory_kind = $2, disciplines = $3, commune_code = $4,
            commune = $5, postal_code = $6, address = $7, latitude = $8, longitude = $9,
            phone = $10, contact_email = $11, links = $12
         WHERE id = $1",
    )
    .bind::<BigInt, _>(account.id)
    .bind::<Text, _>(directory_kind)
    .bind::<Array<Text>, _>(&e.disciplines)
    .bind::<Nullable<Text>, _>(&e.commune_code)
    .bind::<Text, _>(&e.commune)
    .bind::<Text, _>(&e.postal_code)
    .bind::<Text, _>(&e.address)
    .bind::<Nullable<Float8>, _>(e.latitude)
    .bind::<Nullable<Float8>, _>(e.longitude)
    .bind::<Text, _>(&e.phone)
    .bind::<Text, _>(&e.email)
    .bind::<Array<Text>, _>(&links)
    .execute(conn)
    .await?;
    if let Some(prepared) = &target.venue {
        let venue = venues::insert_prepared(ctx, conn, account.id, prepared).await?;
        diesel::sql_query("UPDATE directory_entries SET venue_id = $2 WHERE id = $1")
            .bind::<BigInt, _>(e.id)
            .bind::<BigInt, _>(venue.id)
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_suggested_from_names() {
        assert_eq!(
            suggest_username("Cie des Trois Pommes"),
            "cie_des_trois_pommes"
        );
        assert_eq!(
            suggest_username("Médiathèque d'Épinal"),
            "mediatheque_d_epinal"
        );
        assert_eq!(suggest_username("É"), "e__");
        assert!(suggest_username(&"a b ".repeat(40)).len() <= 30);
    }
}
