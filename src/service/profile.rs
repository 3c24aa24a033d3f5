//! Profile editing: display name, bio (Markdown, sanitised once into `bio_html`), disciplines,
//! commune, website, language, network visibility and avatar.
//!
//! Every field is checked before anything is written; the avatar file is written before the
//! transaction and removed again if the transaction fails, and the old avatar is removed only
//! after the new one is committed, so a failure never leaves a profile pointing at nothing.

use crate::{
    context::AppContext,
    db::{
        self,
        accounts::{DbAccount, ProfileChanges},
    },
    error::{AppError, AppResult, FieldErrors},
    i18n::Lang,
    sanitize::SafeHtml,
    service::{follows, tokens},
};
use diesel_async::AsyncConnection;
use std::path::{Path, PathBuf};

pub const MAX_DISPLAY_NAME: usize = 100;
pub const MAX_BIO: usize = 5_000;
pub const MAX_COMMUNE: usize = 100;
pub const MAX_WEBSITE: usize = 300;
pub const MAX_DISCIPLINES: usize = 15;
pub const MAX_DISCIPLINE_LEN: usize = 40;
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
}

impl ProfileInput {
    /// The form as the account currently stands, to pre-fill it.
    pub fn from_account(account: &DbAccount) -> Self {
        Self {
            display_name: account.display_name.clone(),
            bio: account.bio_markdown.clone(),
            disciplines: account.disciplines.join(", "),
            commune: account.commune.clone(),
            website: account.website.clone(),
            language: account.language.clone().unwrap_or_default(),
            hide_network: account.hide_network,
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

/// Validated, ready-to-write values.
struct Checked {
    changes: ProfileChanges,
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
    let commune = one_line(&input.commune);
    if commune.chars().count() > MAX_COMMUNE {
        errors.add("commune", "field.too_long");
    }
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
    let account_id = account.id;
    let actor_id = account.actor_id;
    let result = async {
        let mut conn = ctx.conn().await?;
        conn.transaction::<DbAccount, AppError, _>(async |conn| {
            let mut updated = db::accounts::update_profile(conn, account_id, &changes).await?;
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

    #[test]
    fn websites_must_be_http() {
        assert!(website_ok("https://compagnie.example/"));
        assert!(website_ok("http://a.example"));
        assert!(!website_ok("javascript:alert(1)"));
        assert!(!website_ok("ftp://a.example"));
        assert!(!website_ok("compagnie.example"));
    }
}
