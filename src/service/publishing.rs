//! Blog posts and announcements: one domain function per action (create, edit, publish a draft,
//! delete), shared by the web forms and the JSON API. Each validates everything first, then
//! writes its rows and records the outbound event (published, updated, deleted) in one
//! transaction, so a refused input writes nothing and a written post is always federated.

use crate::{
    context::{AppContext, Data},
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        posts::{CATEGORY_ANNOUNCEMENT, CATEGORY_POST, DbPost, NewPost, PostChanges, PostExtras},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::SafeHtml,
    service::{
        accounts::is_staff,
        covers::{self, MAX_ALT_CHARS, WrittenCover},
        mentions,
        outbound::{self, OutboundEvent},
        profile::{ImageType, parse_disciplines},
    },
};
use chrono::{NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use std::collections::HashSet;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 100_000;
pub const MAX_SUMMARY_CHARS: usize = 500;
pub const MAX_COMMUNE_CHARS: usize = 100;
pub const MAX_DISCIPLINES: usize = 10;
pub const MAX_DISCIPLINE_CHARS: usize = 60;
/// Hashtags kept from a body (the kind's hashtag comes on top).
pub const MAX_HASHTAGS: usize = 20;
const MAX_HASHTAG_CHARS: usize = 60;
const MAX_SLUG_CHARS: usize = 80;

/// Blog post or announcement: the two share every rule but the announcement fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Post,
    Announcement,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Post => CATEGORY_POST,
            Category::Announcement => CATEGORY_ANNOUNCEMENT,
        }
    }

    pub fn of(post: &DbPost) -> Category {
        if post.is_announcement() {
            Category::Announcement
        } else {
            Category::Post
        }
    }
}

/// The kinds of announcement (DESIGN.md §6), each with its label and its hashtag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementKind {
    Emploi,
    AppelAProjets,
    Residence,
    PretMateriel,
    MiseADispositionLieu,
    Benevolat,
    Formation,
    Autre,
}

impl AnnouncementKind {
    pub const ALL: [AnnouncementKind; 8] = [
        AnnouncementKind::Emploi,
        AnnouncementKind::AppelAProjets,
        AnnouncementKind::Residence,
        AnnouncementKind::PretMateriel,
        AnnouncementKind::MiseADispositionLieu,
        AnnouncementKind::Benevolat,
        AnnouncementKind::Formation,
        AnnouncementKind::Autre,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementKind::Emploi => "emploi",
            AnnouncementKind::AppelAProjets => "appel_a_projets",
            AnnouncementKind::Residence => "residence",
            AnnouncementKind::PretMateriel => "pret_materiel",
            AnnouncementKind::MiseADispositionLieu => "mise_a_disposition_lieu",
            AnnouncementKind::Benevolat => "benevolat",
            AnnouncementKind::Formation => "formation",
            AnnouncementKind::Autre => "autre",
        }
    }

    pub fn parse(s: &str) -> Option<AnnouncementKind> {
        AnnouncementKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }

    /// The hashtag (without `#`) Mastodon users can follow.
    pub fn hashtag(self) -> &'static str {
        match self {
            AnnouncementKind::Emploi => "offreEmploi",
            AnnouncementKind::AppelAProjets => "appelAProjets",
            AnnouncementKind::Residence => "residenceArtistique",
            AnnouncementKind::PretMateriel => "pretDeMateriel",
            AnnouncementKind::MiseADispositionLieu => "miseADispositionDeLieu",
            AnnouncementKind::Benevolat => "benevolat",
            AnnouncementKind::Formation => "formation",
            AnnouncementKind::Autre => "annonce",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            AnnouncementKind::Emploi => "announcement.kind.emploi",
            AnnouncementKind::AppelAProjets => "announcement.kind.appel_a_projets",
            AnnouncementKind::Residence => "announcement.kind.residence",
            AnnouncementKind::PretMateriel => "announcement.kind.pret_materiel",
            AnnouncementKind::MiseADispositionLieu => "announcement.kind.mise_a_disposition_lieu",
            AnnouncementKind::Benevolat => "announcement.kind.benevolat",
            AnnouncementKind::Formation => "announcement.kind.formation",
            AnnouncementKind::Autre => "announcement.kind.autre",
        }
    }
}

/// What an edit does to the cover image.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum CoverChange {
    /// Keep the current one (or none). An empty upload (a form sent without a file) is this.
    #[default]
    Keep,
    Remove,
    /// The uploaded bytes, checked by [`check`] (image type by signature, size limit).
    Upload(Vec<u8>),
}

/// What the author typed. The announcement fields are ignored for blog posts.
#[derive(Debug, Clone, Default)]
pub struct PostInput {
    pub title: String,
    pub body: String,
    pub summary: String,
    pub kind: String,
    /// `YYYY-MM-DD` (a full RFC 3339 date-time is accepted too); empty = none.
    pub deadline: String,
    pub disciplines: Vec<String>,
    pub commune: String,
    /// Publish as the département page (staff and admins only).
    pub as_page: bool,
    /// Keep it unpublished: not federated, shown to its author only.
    pub draft: bool,
    pub cover: CoverChange,
    /// Alternative text of the cover, required when there is one. `None` keeps the stored one.
    pub cover_alt: Option<String>,
}

/// A partial edit (API `PATCH`): `None` keeps the stored value. `deadline: Some("")` clears it.
#[derive(Debug, Clone, Default)]
pub struct PostPatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub summary: Option<String>,
    pub kind: Option<String>,
    pub deadline: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub commune: Option<String>,
    pub cover: CoverChange,
    pub cover_alt: Option<String>,
}

impl From<PostInput> for PostPatch {
    fn from(i: PostInput) -> Self {
        PostPatch {
            title: Some(i.title),
            body: Some(i.body),
            summary: Some(i.summary),
            kind: Some(i.kind),
            deadline: Some(i.deadline),
            disciplines: Some(i.disciplines),
            commune: Some(i.commune),
            cover: i.cover,
            cover_alt: i.cover_alt,
        }
    }
}

/// Validated, ready-to-write values.
#[derive(Debug)]
struct Checked {
    title: String,
    slug: String,
    summary: String,
    body_markdown: String,
    body_html: SafeHtml,
    hashtags: Vec<String>,
    kind: Option<AnnouncementKind>,
    deadline: Option<NaiveDate>,
    disciplines: Vec<String>,
    commune: String,
    cover: CoverPlan,
}

/// The cover once checked.
#[derive(Debug, PartialEq)]
enum CoverPlan {
    /// No cover (none before, or removed).
    None,
    /// The stored image stays; the alt text may have changed.
    Keep { alt: String },
    /// A new image replaces the stored one, if any.
    New {
        bytes: Vec<u8>,
        kind: ImageType,
        alt: String,
    },
}

impl CoverPlan {
    fn alt(&self) -> Option<&str> {
        match self {
            CoverPlan::None => None,
            CoverPlan::Keep { alt } | CoverPlan::New { alt, .. } => Some(alt),
        }
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a deadline: a date, or the date part of an RFC 3339 date-time.
pub fn parse_deadline(input: &str) -> Option<NaiveDate> {
    let input = input.trim();
    NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(input)
                .ok()
                .map(|d| d.date_naive())
        })
}

/// "Today" for deadlines: the calendar day in UTC.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Every rule of issue 4 "Bad input and limits", all reported at once. `previous_deadline`
/// lets an edit keep a deadline that has passed since (only a new past deadline is refused);
/// `has_cover` says whether a cover is stored; `max_cover` is the image size limit in bytes.
fn check(
    category: Category,
    input: &PostInput,
    previous_deadline: Option<NaiveDate>,
    has_cover: bool,
    max_cover: usize,
) -> AppResult<Checked> {
    let mut errors = FieldErrors::default();
    let title = one_line(&input.title);
    if title.is_empty() {
        errors.add("title", "field.required");
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.add("title", "field.too_long");
    }
    let body = input.body.replace("\r\n", "\n");
    let body = body.trim();
    if body.is_empty() {
        errors.add("body", "field.required");
    } else if body.chars().count() > MAX_BODY_CHARS {
        errors.add("body", "field.body.too_long");
    }
    let summary = one_line(&input.summary);
    if summary.chars().count() > MAX_SUMMARY_CHARS {
        errors.add("summary", "field.too_long");
    }
    let (mut kind, mut deadline, mut disciplines, mut commune) =
        (None, None, Vec::new(), String::new());
    if category == Category::Announcement {
        if input.kind.trim().is_empty() {
            errors.add("kind", "field.required");
        } else {
            kind = AnnouncementKind::parse(&input.kind);
            if kind.is_none() {
                errors.add("kind", "field.announcement_kind.unknown");
            }
        }
        if !input.deadline.trim().is_empty() {
            match parse_deadline(&input.deadline) {
                None => errors.add("deadline", "field.deadline.invalid"),
                Some(d) if d < today() && Some(d) != previous_deadline => {
                    errors.add("deadline", "field.deadline.past")
                }
                Some(d) => deadline = Some(d),
            }
        }
        let mut seen = HashSet::new();
        disciplines = input
            .disciplines
            .iter()
            .flat_map(|d| parse_disciplines(d))
            .filter(|d| seen.insert(d.to_lowercase()))
            .collect();
        if disciplines.len() > MAX_DISCIPLINES {
            errors.add("disciplines", "field.disciplines.too_many_announcement");
        } else if disciplines
            .iter()
            .any(|d| d.chars().count() > MAX_DISCIPLINE_CHARS)
        {
            errors.add("disciplines", "field.too_long");
        }
        commune = one_line(&input.commune);
        if commune.chars().count() > MAX_COMMUNE_CHARS {
            errors.add("commune", "field.too_long");
        }
    }
    let cover_alt = one_line(input.cover_alt.as_deref().unwrap_or_default());
    let cover = match &input.cover {
        CoverChange::Remove => CoverPlan::None,
        CoverChange::Upload(bytes) if !bytes.is_empty() => {
            match covers::check_image(bytes, max_cover) {
                Ok(kind) => CoverPlan::New {
                    bytes: bytes.clone(),
                    kind,
                    alt: cover_alt.clone(),
                },
                Err(key) => {
                    errors.add("cover_image", key);
                    CoverPlan::None
                }
            }
        }
        CoverChange::Keep | CoverChange::Upload(_) if has_cover => CoverPlan::Keep {
            alt: cover_alt.clone(),
        },
        CoverChange::Keep | CoverChange::Upload(_) => CoverPlan::None,
    };
    let image_given = cover != CoverPlan::None || errors.has("cover_image");
    if image_given && cover_alt.is_empty() {
        errors.add("cover_image_alt", "field.cover_alt.required");
    } else if cover_alt.chars().count() > MAX_ALT_CHARS {
        errors.add("cover_image_alt", "field.too_long");
    }
    errors.into_result()?;
    let mut hashtags = Vec::new();
    if let Some(kind) = kind {
        hashtags.push(kind.hashtag().to_string());
    }
    for tag in extract_hashtags(body) {
        if hashtags.len() > MAX_HASHTAGS {
            break;
        }
        if !hashtags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            hashtags.push(tag);
        }
    }
    Ok(Checked {
        slug: slugify(&title),
        title,
        summary,
        body_markdown: body.to_string(),
        body_html: SafeHtml::from_markdown(body),
        hashtags,
        kind,
        deadline,
        disciplines,
        commune,
        cover,
    })
}

/// `#tags` written in a body, in order, without duplicates (case-insensitive). Markdown
/// headings (`# Title`) have a space and are not tags; `&#39;` and URL fragments are not either.
pub fn extract_hashtags(body: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut tags = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let starts_tag = chars[i] == '#'
            && (i == 0 || !(word(chars[i - 1]) || matches!(chars[i - 1], '&' | '/' | '#')))
            && chars
                .get(i + 1)
                .is_some_and(|c| c.is_alphabetic() || *c == '_');
        if !starts_tag {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < chars.len() && word(chars[end]) {
            end += 1;
        }
        let tag: String = chars[start..end].iter().collect();
        if tag.chars().count() <= MAX_HASHTAG_CHARS && seen.insert(tag.to_lowercase()) {
            tags.push(tag);
        }
        i = end;
    }
    tags
}

/// The slug of the public URL: lower-case ASCII words joined by `-`.
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let mapped = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => "a",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'œ' => "oe",
            'æ' => "ae",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "-",
        };
        out.push_str(mapped);
    }
    let slug = out
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug: String = slug.chars().take(MAX_SLUG_CHARS).collect();
    let slug = slug.trim_end_matches('-').to_string();
    match slug.as_str() {
        "" => "sans-titre".into(),
        // Action paths under the same prefix (`/posts/{id}/modifier`…).
        "modifier" | "supprimer" | "publier" => format!("{slug}-1"),
        _ => slug,
    }
}

/// The AP id of a post or announcement with this row id.
pub fn ap_id(ctx: &AppContext, category: Category, id: i64) -> String {
    match category {
        Category::Post => ctx.urls.absolute(&format!("/posts/{id}")),
        Category::Announcement => ctx.urls.absolute(&format!("/announcements/{id}")),
    }
}

/// The slugged public page (the AP id serves the same page to browsers).
pub fn page_url(post: &DbPost) -> String {
    if !post.local {
        // A remote post kept here: its local page (its AP id is the remote server's).
        let base = if post.is_announcement() {
            "/announcements"
        } else {
            "/posts"
        };
        return format!("{base}/{}/{}", post.id, post.slug);
    }
    format!("{}/{}", post.ap_id, post.slug)
}

/// Where a comment is shown: its anchor on its post's page, as a path.
pub fn comment_anchor(post: &DbPost, comment_id: i64) -> String {
    let page = page_url(post);
    let path = match url::Url::parse(&page) {
        Ok(u) => u.path().to_string(),
        // A remote post's page is already a path.
        Err(_) => page,
    };
    format!("{path}#comment-{comment_id}")
}

/// Media type of a stored image, from its extension.
pub fn image_media_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or_default();
    crate::service::profile::ImageType::from_extension(ext)
        .map(|t| t.mime())
        .unwrap_or("application/octet-stream")
}

/// The actor a post goes out as: the member's own, or the département page for staff.
async fn publishing_actor(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    as_page: bool,
) -> AppResult<DbActor> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    if as_page {
        if !is_staff(account) {
            return Err(
                AppError::forbidden("only staff and admins may publish as the page")
                    .with_message("publishing.as_page_forbidden"),
            );
        }
        return db::actors::by_ap_id(conn, &ctx.urls.user(&ctx.config.instance.page_actor))
            .await?
            .ok_or_else(|| AppError::internal("the page actor is missing"));
    }
    Ok(db::actors::by_id(conn, account.actor_id).await?)
}

/// Whether `account` may change `post`: its author, or staff for the page's posts.
pub fn can_edit(account: &DbAccount, post: &DbPost) -> bool {
    account.suspended_at.is_none()
        && (post.account_id == Some(account.id) || (post.as_page && is_staff(account)))
}

/// Writes the new cover image, if the plan has one (before the transaction).
async fn write_new_cover(ctx: &AppContext, plan: &CoverPlan) -> AppResult<Option<WrittenCover>> {
    match plan {
        CoverPlan::New { bytes, kind, .. } => {
            Ok(Some(covers::write_cover(ctx, bytes, *kind).await?))
        }
        _ => Ok(None),
    }
}

/// Runs a transaction that stores `written` (if any): on failure the new file is removed, so
/// a refused or failed change leaves no file behind.
async fn removing_on_error<T>(
    written: &Option<WrittenCover>,
    result: AppResult<T>,
) -> AppResult<T> {
    if result.is_err()
        && let Some(file) = written
    {
        covers::remove_file(&file.path).await;
    }
    result
}

/// Publishes (or saves as a draft) a new blog post or announcement.
pub async fn create(
    data: &Data,
    account: &DbAccount,
    category: Category,
    input: PostInput,
) -> AppResult<DbPost> {
    let ctx = data.app_data();
    let checked = check(category, &input, None, false, covers::max_cover_bytes(ctx))?;
    let (body_html, found) = mentions::resolve_and_link(data, checked.body_html, &[]).await?;
    let written = write_new_cover(ctx, &checked.cover).await?;
    let extras = PostExtras {
        cover_image_path: written.as_ref().map(|w| w.rel.clone()),
        cover_image_alt: checked.cover.alt().map(str::to_string),
        mentions: mentions::to_json(&found),
    };
    let result = async {
        let mut conn = ctx.conn().await?;
        conn.transaction::<DbPost, AppError, _>(async |conn| {
            let author = publishing_actor(ctx, conn, account, input.as_page).await?;
            let id = db::posts::next_id(conn).await?;
            let now = Utc::now();
            let post = db::posts::insert(
                conn,
                &NewPost {
                    id,
                    category: category.as_str().into(),
                    ap_id: ap_id(ctx, category, id),
                    author_actor_id: author.id,
                    account_id: Some(account.id),
                    as_page: input.as_page,
                    title: checked.title,
                    slug: checked.slug,
                    summary: checked.summary,
                    body_markdown: checked.body_markdown,
                    body_html: body_html.into_string(),
                    hashtags: checked.hashtags,
                    kind: checked.kind.map(|k| k.as_str().to_string()),
                    deadline: checked.deadline,
                    disciplines: checked.disciplines,
                    commune: checked.commune,
                    draft: input.draft,
                    published_at: (!input.draft).then_some(now),
                },
            )
            .await?;
            let post = db::posts::set_extras(conn, post.id, &extras).await?;
            if !post.draft {
                let event = OutboundEvent::PostPublished {
                    post: Box::new(post.clone()),
                    author: Box::new(author),
                };
                outbound::record(ctx, conn, event).await?;
            }
            Ok(post)
        })
        .await
    }
    .await;
    removing_on_error(&written, result).await
}

/// Loads a post of `category` that `account` may change, locked for the transaction.
async fn editable(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<DbPost> {
    let post = db::posts::by_id_for_update(conn, id).await?;
    changeable(account, category, post)
}

/// `post` when it is a live post of `category` that `account` may change: 404 when it is
/// missing, deleted or of another category, 403 when it is someone else's.
fn changeable(account: &DbAccount, category: Category, post: Option<DbPost>) -> AppResult<DbPost> {
    let post = post
        .filter(|p| p.category == category.as_str())
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    if !can_edit(account, &post) {
        return Err(
            AppError::forbidden("this is someone else's post").with_message("publishing.not_yours")
        );
    }
    Ok(post)
}

/// Edits a post; a published one is federated again as `Update`. A new cover replaces the old
/// file, which is removed once the change is committed.
pub async fn edit(
    data: &Data,
    account: &DbAccount,
    category: Category,
    id: i64,
    patch: PostPatch,
) -> AppResult<DbPost> {
    let ctx = data.app_data();
    // Read without a lock first: the checks and the mention look-ups (network) must happen
    // before the transaction; the row is read again, locked, inside it.
    let post = {
        let mut conn = ctx.conn().await?;
        editable_unlocked(&mut conn, account, category, id).await?
    };
    let input = PostInput {
        title: patch.title.unwrap_or_else(|| post.title.clone()),
        body: patch.body.unwrap_or_else(|| post.body_markdown.clone()),
        summary: patch.summary.unwrap_or_else(|| post.summary.clone()),
        kind: patch
            .kind
            .unwrap_or_else(|| post.kind.clone().unwrap_or_default()),
        deadline: patch.deadline.unwrap_or_else(|| {
            post.deadline
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        }),
        disciplines: patch
            .disciplines
            .unwrap_or_else(|| post.disciplines.clone()),
        commune: patch.commune.unwrap_or_else(|| post.commune.clone()),
        as_page: post.as_page,
        draft: post.draft,
        cover: patch.cover,
        cover_alt: patch.cover_alt.or_else(|| post.cover_image_alt.clone()),
    };
    let has_cover = post.cover_image_path.is_some();
    let checked = check(
        category,
        &input,
        post.deadline,
        has_cover,
        covers::max_cover_bytes(ctx),
    )?;
    let known = mentions::stored(&post);
    let (body_html, found) = if checked.body_markdown == post.body_markdown {
        // Same text: the same mentions, no look-up.
        let html = mentions::link_html(&checked.body_html, &known, &ctx.config.domain());
        (html, known)
    } else {
        mentions::resolve_and_link(data, checked.body_html, &known).await?
    };
    let written = write_new_cover(ctx, &checked.cover).await?;
    let result = async {
        let mut conn = ctx.conn().await?;
        conn.transaction::<(DbPost, Option<String>), AppError, _>(async |conn| {
            let locked = editable(conn, account, category, id).await?;
            let extras = PostExtras {
                cover_image_path: match &checked.cover {
                    CoverPlan::None => None,
                    // What the row holds now, under the lock (another edit may have changed it
                    // since the checks).
                    CoverPlan::Keep { .. } => locked.cover_image_path.clone(),
                    CoverPlan::New { .. } => written.as_ref().map(|w| w.rel.clone()),
                },
                cover_image_alt: checked.cover.alt().map(str::to_string),
                mentions: mentions::to_json(&found),
            };
            let updated = db::posts::update(
                conn,
                locked.id,
                &PostChanges {
                    title: checked.title,
                    slug: checked.slug,
                    summary: checked.summary,
                    body_markdown: checked.body_markdown,
                    body_html: body_html.into_string(),
                    hashtags: checked.hashtags,
                    kind: checked.kind.map(|k| k.as_str().to_string()),
                    deadline: checked.deadline,
                    disciplines: checked.disciplines,
                    commune: checked.commune,
                    updated_at: Utc::now(),
                },
            )
            .await?;
            let updated = db::posts::set_extras(conn, updated.id, &extras).await?;
            if !updated.draft {
                let author = db::actors::by_id(conn, updated.author_actor_id).await?;
                let event = OutboundEvent::PostUpdated {
                    post: Box::new(updated.clone()),
                    author: Box::new(author),
                };
                outbound::record(ctx, conn, event).await?;
            }
            // The file the row pointed at under the lock, if it no longer does.
            let replaced = locked
                .cover_image_path
                .filter(|old| updated.cover_image_path.as_ref() != Some(old));
            Ok((updated, replaced))
        })
        .await
    }
    .await;
    let (updated, replaced) = removing_on_error(&written, result).await?;
    if let Some(old) = replaced {
        covers::remove_stored_cover(ctx, &old).await;
    }
    Ok(updated)
}

/// Like [`editable`], without the lock (for the checks made before a transaction).
async fn editable_unlocked(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<DbPost> {
    let post = db::posts::by_id(conn, id).await?;
    changeable(account, category, post)
}

/// Publishes a draft: from now on public, and federated as `Create`.
pub async fn publish_draft(
    ctx: &AppContext,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<DbPost> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbPost, AppError, _>(async |conn| {
        let post = editable(conn, account, category, id).await?;
        if !post.draft {
            return Err(AppError::new(ErrorKind::Conflict, "already published")
                .with_message("publishing.already_published"));
        }
        // The deadline may have passed while it was a draft.
        if post.deadline.is_some_and(|d| d < today()) {
            return Err(AppError::field("deadline", "field.deadline.past"));
        }
        let published = db::posts::mark_published(conn, post.id, Utc::now()).await?;
        let author = db::actors::by_id(conn, published.author_actor_id).await?;
        let event = OutboundEvent::PostPublished {
            post: Box::new(published.clone()),
            author: Box::new(author),
        };
        outbound::record(ctx, conn, event).await?;
        Ok(published)
    })
    .await
}

/// Deletes a post; a published one is federated as `Delete` of a Tombstone (to its followers
/// and the actors it mentioned), and its id answers 410 from then on. Its cover file goes.
pub async fn delete(
    ctx: &AppContext,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let cover = conn
        .transaction::<Option<String>, AppError, _>(async |conn| {
            let mut post = editable(conn, account, category, id).await?;
            let now = Utc::now();
            db::posts::mark_deleted(conn, post.id, now).await?;
            let cover = post.cover_image_path.clone();
            if cover.is_some() {
                db::posts::set_extras(
                    conn,
                    post.id,
                    &PostExtras {
                        cover_image_path: None,
                        cover_image_alt: None,
                        mentions: post.mentions.clone(),
                    },
                )
                .await?;
            }
            if post.draft {
                return Ok(cover);
            }
            post.deleted_at = Some(now);
            let author = db::actors::by_id(conn, post.author_actor_id).await?;
            let event = OutboundEvent::PostDeleted {
                post: Box::new(post),
                author: Box::new(author),
            };
            outbound::record(ctx, conn, event).await?;
            Ok(cover)
        })
        .await?;
    if let Some(path) = cover {
        covers::remove_stored_cover(ctx, &path).await;
    }
    Ok(())
}

/// What a reader finds at a post's address.
pub enum Lookup {
    Found(Box<DbPost>, Box<DbActor>),
    /// Deleted after publication: 410 with a Tombstone.
    Gone(Box<DbPost>),
}

/// A post of `category` as `viewer` may see it: drafts only for those who may edit them,
/// deleted ones as [`Lookup::Gone`], anything else 404.
pub async fn lookup(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    category: Category,
    id: i64,
) -> AppResult<Lookup> {
    let mut conn = ctx.conn().await?;
    let post = db::posts::by_id(&mut conn, id)
        .await?
        .filter(|p| p.category == category.as_str())
        .ok_or_else(AppError::not_found)?;
    if post.deleted_at.is_some() {
        if post.published_at.is_some() {
            return Ok(Lookup::Gone(Box::new(post)));
        }
        return Err(AppError::not_found());
    }
    if post.draft && !viewer.is_some_and(|v| can_edit(v, &post)) {
        return Err(AppError::not_found());
    }
    let author = db::actors::by_id(&mut conn, post.author_actor_id).await?;
    Ok(Lookup::Found(Box::new(post), Box::new(author)))
}

/// Like [`lookup`], but a deleted post is `410 Gone` (for pages and the API).
pub async fn visible(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    category: Category,
    id: i64,
) -> AppResult<(DbPost, DbActor)> {
    match lookup(ctx, viewer, category, id).await? {
        Lookup::Found(post, author) => Ok((*post, *author)),
        Lookup::Gone(_) => Err(AppError::new(ErrorKind::Gone, "this was deleted")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_found_once_and_headings_are_not_tags() {
        let body = "# Titre\nUn #appel pour la #Danse et la #danse, pas l'&#39;entité, \
                    ni https://x.example/#ancre. #théâtre_de_rue";
        assert_eq!(
            extract_hashtags(body),
            vec!["appel", "Danse", "théâtre_de_rue"]
        );
    }

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(
            slugify("Résidence d'artistes à Rodez !"),
            "residence-d-artistes-a-rodez"
        );
        assert_eq!(slugify("!!!"), "sans-titre");
    }

    #[test]
    fn kinds_round_trip_and_unknown_is_refused() {
        for kind in AnnouncementKind::ALL {
            assert_eq!(AnnouncementKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AnnouncementKind::parse("concert"), None);
        assert_eq!(AnnouncementKind::AppelAProjets.hashtag(), "appelAProjets");
    }

    #[test]
    fn every_rule_is_reported_with_its_field() {
        let input = PostInput {
            title: "  ".into(),
            body: "x".repeat(MAX_BODY_CHARS + 1),
            kind: "concert".into(),
            deadline: "2001-01-01".into(),
            ..Default::default()
        };
        let e = check(Category::Announcement, &input, None, false, 1024).expect_err("refused");
        let fields: Vec<_> = e
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.message_key))
            .collect();
        assert!(fields.contains(&("title", "field.required")), "{fields:?}");
        assert!(
            fields.contains(&("body", "field.body.too_long")),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("kind", "field.announcement_kind.unknown")),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("deadline", "field.deadline.past")),
            "{fields:?}"
        );
        let bad_date = PostInput {
            title: "t".into(),
            body: "b".into(),
            kind: "emploi".into(),
            deadline: "31/12/2099".into(),
            ..Default::default()
        };
        let e = check(Category::Announcement, &bad_date, None, false, 1024).expect_err("refused");
        assert_eq!(e.fields[0].message_key, "field.deadline.invalid");
        // An edit may keep a deadline that passed since.
        let past = NaiveDate::from_ymd_opt(2001, 1, 1).expect("date");
        let keep = PostInput {
            deadline: "2001-01-01".into(),
            ..bad_date
        };
        check(Category::Announcement, &keep, Some(past), false, 1024).expect("kept");
    }
}
