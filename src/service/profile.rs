//! Profile editing: display name, bio (Markdown, sanitised once into `bio_html`), disciplines,
//! website, language, network visibility and avatar, and what the member directory shows:
//! kind, commune (from the official list) and postal code, address, coordinates, public phone
//! and e-mail, extra links, and whether to be listed at all.
//!
//! Every field is checked before anything is written; the avatar file is written before the
//! transaction and removed again if the transaction fails, and the old avatar is removed only
//! after the new one is committed, so a failure never leaves a profile pointing at nothing.

use crate::{
    context::AppContext,
    db::{
        self,
        accounts::{DbAccount, DirectoryChanges, ProfileChanges},
    },
    error::{AppError, AppResult, FieldErrors},
    i18n::Lang,
    sanitize::SafeHtml,
    service::{accounts::email_looks_valid, communes, directory::DirectoryKind, follows, tokens},
};
use diesel_async::AsyncConnection;
use std::path::{Path, PathBuf};

pub const MAX_DISPLAY_NAME: usize = 100;
pub const MAX_BIO: usize = 5_000;
pub const MAX_COMMUNE: usize = 100;
pub const MAX_WEBSITE: usize = 300;
pub const MAX_DISCIPLINES: usize = 15;
pub const MAX_DISCIPLINE_LEN: usize = 40;
pub const MAX_ADDRESS: usize = 300;
pub const MAX_PHONE: usize = 40;
pub const MAX_CONTACT_EMAIL: usize = 254;
/// Extra public links besides the website.
pub const MAX_LINKS: usize = 5;
/// Avatars are small pictures: 2 MiB at most, less if `storage.max_upload_mb` says so.
pub const MAX_AVATAR_BYTES: usize = 2 * 1024 * 1024;
/// Folder under the media folder, and prefix of `accounts.avatar_path`.
pub const AVATAR_DIR: &str = "avatars";

/// What the profile form submits (raw, as typed).
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub display_name: String,
    pub bio: String,
    /// Comma-separated.
    pub disciplines: String,
    pub commune: String,
    pub website: String,
    /// `fr`, `en`, or empty for the instance default.
    pub language: String,
    pub hide_network: bool,
    /// A `DirectoryKind` code (spreadsheet words forgiven).
    pub directory_kind: String,
    /// Five characters, one of the commune's postal codes when a commune is given.
    pub postal_code: String,
    pub address: String,
    /// Decimal degrees (WGS 84), both or neither; a decimal comma is read as a point.
    pub latitude: String,
    pub longitude: String,
    /// Public phone number shown in the directory.
    pub phone: String,
    /// Public contact address shown in the directory (not the login address).
    pub contact_email: String,
    /// Extra links, one per line, `http(s)` only.
    pub links: String,
    /// Not listed in the directory nor its search.
    pub directory_hidden: bool,
}

impl ProfileInput {
    /// The form as the account currently stands, to pre-fill it; `departement` (the
    /// configured one) decides how the commune is written so that it reads back the same.
    pub fn from_account(account: &DbAccount, departement: &str) -> Self {
        let coordinate = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            display_name: account.display_name.clone(),
            bio: account.bio_markdown.clone(),
            disciplines: account.disciplines.join(", "),
            commune: match &account.commune_code {
                Some(code) => communes::field_value(Some(code), departement),
                None => account.commune.clone(),
            },
            website: account.website.clone(),
            language: account.language.clone().unwrap_or_default(),
            hide_network: account.hide_network,
            directory_kind: account.directory_kind.clone(),
            postal_code: account.postal_code.clone(),
            address: account.address.clone(),
            latitude: coordinate(account.latitude),
            longitude: coordinate(account.longitude),
            phone: account.phone.clone(),
            contact_email: account.contact_email.clone(),
            links: account.links.join("\n"),
            directory_hidden: account.directory_hidden,
        }
    }
}

/// The largest avatar accepted on this instance, in bytes.
pub fn max_avatar_bytes(ctx: &AppContext) -> usize {
    MAX_AVATAR_BYTES.min(ctx.config.max_upload_bytes())
}

/// An image type we accept, recognised from the file's first bytes (never from its name or
/// the content type the client claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageType {
    pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageType::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageType::Webp)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Jpeg => "jpg",
            ImageType::Gif => "gif",
            ImageType::Webp => "webp",
        }
    }

    pub fn from_extension(ext: &str) -> Option<ImageType> {
        match ext {
            "png" => Some(ImageType::Png),
            "jpg" => Some(ImageType::Jpeg),
            "gif" => Some(ImageType::Gif),
            "webp" => Some(ImageType::Webp),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Gif => "image/gif",
            ImageType::Webp => "image/webp",
        }
    }
}

/// Whether `name` is a file name this module could have generated (random part + known
/// extension): the only names served from, or deleted in, the avatar folder.
pub fn is_avatar_file_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && stem.len() <= 64
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && ImageType::from_extension(ext).is_some()
}

/// The avatar's file name, when the account has a well-formed one.
pub fn avatar_file_name(account: &DbAccount) -> Option<&str> {
    account
        .avatar_path
        .as_deref()
        .and_then(|p| p.strip_prefix(AVATAR_DIR))
        .and_then(|p| p.strip_prefix('/'))
        .filter(|name| is_avatar_file_name(name))
}

/// The site-relative URL of the account's avatar, for pages.
pub fn avatar_path_url(account: &DbAccount) -> Option<String> {
    avatar_file_name(account).map(|name| format!("/media/{AVATAR_DIR}/{name}"))
}

pub fn avatar_dir(ctx: &AppContext) -> PathBuf {
    ctx.media_dir.join(AVATAR_DIR)
}

/// Removes control characters and surrounding spaces from a one-line field.
fn one_line(input: &str) -> String {
    input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Splits "Théâtre, danse ,, Musique" into ["Théâtre", "danse", "Musique"], dropping
/// duplicates that differ only in case.
pub fn parse_disciplines(input: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    input
        .split(',')
        .map(one_line)
        .filter(|d| !d.is_empty())
        .filter(|d| seen.insert(d.to_lowercase()))
        .collect()
}

fn website_ok(website: &str) -> bool {
    match url::Url::parse(website) {
        Ok(url) => matches!(url.scheme(), "http" | "https") && url.host_str().is_some(),
        Err(_) => false,
    }
}

/// Whether a postal code is well formed: five characters, digits (Corsica's `2A`/`2B`
/// allowed in second place, as the table's check does).
fn postal_code_ok(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && b[0].is_ascii_digit()
        && (b[1].is_ascii_digit() || b[1] == b'A' || b[1] == b'B')
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// A phone number as people write it: digits, spaces, dots, hyphens, parentheses, a
/// leading `+`; at least six digits.
fn phone_ok(phone: &str) -> bool {
    phone
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " .-()".contains(c) || (c == '+' && i == 0))
        && phone.chars().filter(char::is_ascii_digit).count() >= 6
}

/// Reads one coordinate: `None` when empty, `Err` when not a finite number.
fn parse_coordinate(input: &str) -> Result<Option<f64>, ()> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    match input.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(()),
    }
}

/// The coordinates, both or neither, each in its range; errors go to `errors` by field.
fn check_coordinates(input: &ProfileInput, errors: &mut FieldErrors) -> (Option<f64>, Option<f64>) {
    let mut read = |field: &str, text: &str, max: f64| match parse_coordinate(text) {
        Ok(Some(v)) if v.abs() <= max => Some(Some(v)),
        Ok(Some(_)) => {
            errors.add(field, "field.coordinate.range");
            None
        }
        Ok(None) => Some(None),
        Err(()) => {
            errors.add(field, "field.coordinate.invalid");
            None
        }
    };
    let latitude = read("latitude", &input.latitude, 90.0);
    let longitude = read("longitude", &input.longitude, 180.0);
    match (latitude, longitude) {
        (Some(Some(lat)), Some(Some(lon))) => (Some(lat), Some(lon)),
        (Some(Some(_)), Some(None)) => {
            errors.add("longitude", "field.coordinates.both");
            (None, None)
        }
        (Some(None), Some(Some(_))) => {
            errors.add("latitude", "field.coordinates.both");
            (None, None)
        }
        _ => (None, None),
    }
}

/// The directory fields of the form, checked; errors go to `errors` by field. Returns the
/// changes and the commune's name (for `accounts.commune`, which pages show).
fn check_directory(
    input: &ProfileInput,
    departement: &str,
    errors: &mut FieldErrors,
) -> (DirectoryChanges, String) {
    let directory_kind = match DirectoryKind::parse(&input.directory_kind) {
        Some(k) => k.as_str().to_string(),
        None => {
            errors.add("directory_kind", "field.directory_kind.unknown");
            String::new()
        }
    };
    let typed = one_line(&input.commune);
    let commune = if typed.chars().count() > MAX_COMMUNE {
        errors.add("commune", "field.too_long");
        None
    } else {
        match communes::parse_field(&typed, departement) {
            Ok(c) => c,
            Err(key) => {
                errors.add("commune", key);
                None
            }
        }
    };
    let postal_code = one_line(&input.postal_code).to_ascii_uppercase();
    if !postal_code.is_empty() {
        if !postal_code_ok(&postal_code) {
            errors.add("postal_code", "field.postal_code.invalid");
        } else if let Some(c) = commune
            && !c.postal_codes.is_empty()
            && !c.postal_codes.split(' ').any(|p| p == postal_code)
        {
            errors.add("postal_code", "field.postal_code.not_of_commune");
        }
    }
    let address = one_line(&input.address);
    if address.chars().count() > MAX_ADDRESS {
        errors.add("address", "field.too_long");
    }
    let (latitude, longitude) = check_coordinates(input, errors);
    let phone = one_line(&input.phone);
    if phone.chars().count() > MAX_PHONE {
        errors.add("phone", "field.too_long");
    } else if !phone.is_empty() && !phone_ok(&phone) {
        errors.add("phone", "field.phone.invalid");
    }
    let contact_email = one_line(&input.contact_email);
    if contact_email.chars().count() > MAX_CONTACT_EMAIL {
        errors.add("contact_email", "field.too_long");
    } else if !contact_email.is_empty() && !email_looks_valid(&contact_email) {
        errors.add("contact_email", "field.email.invalid");
    }
    let mut links: Vec<String> = Vec::new();
    for line in input.links.lines().map(one_line).filter(|l| !l.is_empty()) {
        if !links.contains(&line) {
            links.push(line);
        }
    }
    if links.len() > MAX_LINKS {
        errors.add("links", "field.links.too_many");
    } else if links
        .iter()
        .any(|l| l.chars().count() > MAX_WEBSITE || !website_ok(l))
    {
        errors.add("links", "field.links.invalid");
    }
    let name = commune.map(|c| c.name.to_string()).unwrap_or_default();
    (
        DirectoryChanges {
            directory_kind,
            commune_code: commune.map(|c| c.code.to_string()),
            postal_code,
            address,
            latitude,
            longitude,
            phone,
            contact_email,
            links,
            directory_hidden: input.directory_hidden,
        },
        name,
    )
}

/// Validated, ready-to-write values.
struct Checked {
    changes: ProfileChanges,
    directory: DirectoryChanges,
    avatar: Option<(Vec<u8>, ImageType)>,
}

fn check(ctx: &AppContext, input: &ProfileInput, avatar: Option<Vec<u8>>) -> AppResult<Checked> {
    let mut errors = FieldErrors::default();
    let display_name = one_line(&input.display_name);
    if display_name.chars().count() > MAX_DISPLAY_NAME {
        errors.add("display_name", "field.too_long");
    }
    let bio = input.bio.replace("\r\n", "\n").trim().to_string();
    if bio.chars().count() > MAX_BIO {
        errors.add("bio", "field.too_long");
    }
    let disciplines = parse_disciplines(&input.disciplines);
    if disciplines.len() > MAX_DISCIPLINES {
        errors.add("disciplines", "field.disciplines.too_many");
    } else if disciplines
        .iter()
        .any(|d| d.chars().count() > MAX_DISCIPLINE_LEN)
    {
        errors.add("disciplines", "field.disciplines.too_long");
    }
    let (directory, commune) =
        check_directory(input, &ctx.config.instance.departement, &mut errors);
    let website = one_line(&input.website);
    if website.chars().count() > MAX_WEBSITE {
        errors.add("website", "field.too_long");
    } else if !website.is_empty() && !website_ok(&website) {
        errors.add("website", "field.website.invalid");
    }
    let language = match input.language.trim() {
        "" => None,
        code => match Lang::parse(code) {
            Some(lang) => Some(lang.code().to_string()),
            None => {
                errors.add("language", "field.language.invalid");
                None
            }
        },
    };
    let avatar = match avatar {
        Some(bytes) if bytes.is_empty() => None,
        Some(bytes) if bytes.len() > max_avatar_bytes(ctx) => {
            errors.add("avatar", "field.image.too_large");
            None
        }
        Some(bytes) => match ImageType::sniff(&bytes) {
            Some(kind) => Some((bytes, kind)),
            None => {
                errors.add("avatar", "field.image.invalid");
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    let bio_html = SafeHtml::from_markdown(&bio).into_string();
    Ok(Checked {
        changes: ProfileChanges {
            display_name,
            bio_markdown: bio,
            bio_html,
            disciplines,
            commune,
            website,
            language,
            hide_network: input.hide_network,
        },
        directory,
        avatar,
    })
}

/// Saves the profile of `account`, with a new avatar when `avatar` holds a non-empty file.
/// Every broken rule is reported at once, field by field; nothing is written on error.
pub async fn update_profile(
    ctx: &AppContext,
    account: &DbAccount,
    input: &ProfileInput,
    avatar: Option<Vec<u8>>,
) -> AppResult<DbAccount> {
    let checked = check(ctx, input, avatar)?;
    let new_file = match &checked.avatar {
        Some((bytes, kind)) => Some(write_avatar(ctx, bytes, *kind).await?),
        None => None,
    };
    let new_avatar_path = new_file.as_ref().map(|(rel, _)| rel.clone());
    let icon_url = new_file
        .as_ref()
        .map(|(rel, _)| ctx.urls.absolute(&format!("/media/{rel}")));
    let changes = checked.changes;
    let directory = checked.directory;
    let account_id = account.id;
    let actor_id = account.actor_id;
    let result = async {
        let mut conn = ctx.conn().await?;
        conn.transaction::<DbAccount, AppError, _>(async |conn| {
            db::accounts::update_profile(conn, account_id, &changes).await?;
            let mut updated = db::accounts::update_directory(conn, account_id, &directory).await?;
            if let Some(path) = &new_avatar_path {
                updated = db::accounts::set_avatar(conn, account_id, Some(path)).await?;
            }
            let actor_name = if changes.display_name.is_empty() {
                updated.username.clone()
            } else {
                changes.display_name.clone()
            };
            db::actors::update_profile(
                conn,
                actor_id,
                &db::actors::ActorProfileChanges {
                    name: &actor_name,
                    summary_html: &changes.bio_html,
                    icon_url: icon_url.as_deref(),
                },
            )
            .await?;
            // Followers elsewhere learn of the change (`Update` of the actor), in the same
            // transaction: no profile change without its delivery, and the reverse.
            let actor = db::actors::by_id(conn, actor_id).await?;
            follows::federate_profile_update(conn, ctx, &actor).await?;
            Ok(updated)
        })
        .await
    }
    .await;
    match result {
        Ok(updated) => {
            if new_file.is_some()
                && let Some(old) = avatar_file_name(account)
            {
                remove_avatar_file(&avatar_dir(ctx).join(old)).await;
            }
            Ok(updated)
        }
        Err(e) => {
            if let Some((_, path)) = &new_file {
                remove_avatar_file(path).await;
            }
            Err(e)
        }
    }
}

/// Writes the bytes under a fresh random name; returns (`avatars/<name>`, full path).
async fn write_avatar(
    ctx: &AppContext,
    bytes: &[u8],
    kind: ImageType,
) -> AppResult<(String, PathBuf)> {
    let dir = avatar_dir(ctx);
    tokio::fs::create_dir_all(&dir).await?;
    let name = format!("{}.{}", tokens::new_secret(), kind.extension());
    let path = dir.join(&name);
    tokio::fs::write(&path, bytes).await?;
    Ok((format!("{AVATAR_DIR}/{name}"), path))
}

async fn remove_avatar_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot remove avatar {}: {e}", path.display()),
    }
}

/// Records the interface language the member chose (`None`: the instance default).
pub async fn set_language(ctx: &AppContext, account_id: i64, lang: Option<Lang>) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    db::accounts::set_language(&mut conn, account_id, lang.map(|l| l.code())).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_images_by_magic_number() {
        assert_eq!(
            ImageType::sniff(b"\x89PNG\r\n\x1a\n rest"),
            Some(ImageType::Png)
        );
        assert_eq!(
            ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageType::Jpeg)
        );
        assert_eq!(ImageType::sniff(b"GIF89a...."), Some(ImageType::Gif));
        assert_eq!(
            ImageType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        assert_eq!(ImageType::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(ImageType::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageType::sniff(b"just text, named .png"), None);
        assert_eq!(ImageType::sniff(b""), None);
    }

    #[test]
    fn avatar_names_are_checked() {
        assert!(is_avatar_file_name("abc_DEF-123.png"));
        assert!(is_avatar_file_name("x.webp"));
        assert!(!is_avatar_file_name("../secret.png"));
        assert!(!is_avatar_file_name("a/b.png"));
        assert!(!is_avatar_file_name("a.svg"));
        assert!(!is_avatar_file_name(".png"));
        assert!(!is_avatar_file_name("noext"));
    }

    #[test]
    fn disciplines_are_split_and_deduplicated() {
        assert_eq!(
            parse_disciplines(" Théâtre, danse ,, Musique, théâtre ,"),
            vec!["Théâtre", "danse", "Musique"]
        );
        assert!(parse_disciplines(" , ").is_empty());
    }

    fn directory_errors(input: &ProfileInput) -> Vec<(String, &'static str)> {
        let mut errors = FieldErrors::default();
        check_directory(input, "88", &mut errors);
        match errors.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .fields
                .into_iter()
                .map(|f| (f.field, f.message_key))
                .collect(),
        }
    }

    #[test]
    fn directory_fields_follow_their_rules() {
        let good = ProfileInput {
            directory_kind: "Compagnie de théâtre".into(),
            commune: "st die des vosges".into(),
            postal_code: "88100".into(),
            latitude: "48,28".into(),
            longitude: "6.95".into(),
            phone: "+33 3 29 00 00 00".into(),
            contact_email: "contact@cie.example".into(),
            links: "https://a.example\n\n https://b.example \nhttps://a.example".into(),
            ..Default::default()
        };
        assert_eq!(directory_errors(&good), vec![]);
        let mut errors = FieldErrors::default();
        let (changes, name) = check_directory(&good, "88", &mut errors);
        assert_eq!(name, "Saint-Dié-des-Vosges");
        assert_eq!(changes.directory_kind, "compagnie");
        assert_eq!(changes.commune_code.as_deref(), Some("88413"));
        assert_eq!(changes.latitude, Some(48.28));
        assert_eq!(
            changes.links,
            vec!["https://a.example", "https://b.example"]
        );

        let bad = ProfileInput {
            directory_kind: "vaisseau spatial".into(),
            commune: "Épinal".into(),
            postal_code: "88100".into(),
            latitude: "95".into(),
            longitude: "".into(),
            phone: "appelez-moi".into(),
            contact_email: "pas une adresse".into(),
            links: "javascript:alert(1)".into(),
            ..Default::default()
        };
        assert_eq!(
            directory_errors(&bad),
            vec![
                ("directory_kind".to_string(), "field.directory_kind.unknown"),
                (
                    "postal_code".to_string(),
                    "field.postal_code.not_of_commune"
                ),
                ("latitude".to_string(), "field.coordinate.range"),
                ("phone".to_string(), "field.phone.invalid"),
                ("contact_email".to_string(), "field.email.invalid"),
                ("links".to_string(), "field.links.invalid"),
            ]
        );
        let half = ProfileInput {
            directory_kind: "autre".into(),
            longitude: "6.4".into(),
            postal_code: "8800".into(),
            links: (0..6).map(|i| format!("https://{i}.example\n")).collect(),
            ..Default::default()
        };
        assert_eq!(
            directory_errors(&half),
            vec![
                ("postal_code".to_string(), "field.postal_code.invalid"),
                ("latitude".to_string(), "field.coordinates.both"),
                ("links".to_string(), "field.links.too_many"),
            ]
        );
        let not_a_number = ProfileInput {
            directory_kind: "artiste".into(),
            latitude: "nord".into(),
            longitude: "200".into(),
            ..Default::default()
        };
        assert_eq!(
            directory_errors(&not_a_number),
            vec![
                ("latitude".to_string(), "field.coordinate.invalid"),
                ("longitude".to_string(), "field.coordinate.range"),
            ]
        );
    }

    #[test]
    fn websites_must_be_http() {
        assert!(website_ok("https://compagnie.example/"));
        assert!(website_ok("http://a.example"));
        assert!(!website_ok("javascript:alert(1)"));
        assert!(!website_ok("ftp://a.example"));
        assert!(!website_ok("compagnie.example"));
    }
}
