//! The resources library (`/ressources`): guides, templates, legal and funding notes, each a
//! file with versions, a link, or both; tagged by discipline and theme; public or
//! members-only. Any confirmed member proposes (visible at once, moderated afterwards); the
//! author or staff edit, add versions and delete; staff curate (their picks come first).
//!
//! One domain function per action, shared by the pages, the API and the moderators:
//! - this file: themes, the input and its rules, who may see and change what, the reads;
//! - `write.rs`: create, edit, curate, delete, hide (each in one transaction, with its
//!   outbound event when a public resource is concerned);
//! - `files.rs`: versions of the file and downloads.
//!
//! A members-only resource never produces an outbound event: other servers, feeds, lists and
//! searches for visitors never learn it exists.

mod files;
mod write;

pub use files::{Download, FileUpload, add_version, download, download_path};
pub use write::{
    create, delete, edit, edit_partial, hide_by_moderator, remove_by_moderator, set_curated,
};

use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        resources::{DbResource, DbResourceVersion, ListQuery, ResourceFields},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::SafeHtml,
    service::{
        accounts::{is_moderator, is_staff},
        profile::parse_disciplines,
        publishing::{MAX_DISCIPLINE_CHARS, MAX_DISCIPLINES},
    },
};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;
pub const MAX_LINK_CHARS: usize = 2_000;
/// Resources per page of the list.
pub const PAGE_SIZE: i64 = 20;

/// What a resource is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Guide,
    Modele,
    Juridique,
    Financement,
    Autre,
}

impl Theme {
    pub const ALL: &'static [Theme] = &[
        Theme::Guide,
        Theme::Modele,
        Theme::Juridique,
        Theme::Financement,
        Theme::Autre,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Guide => "guide",
            Theme::Modele => "modele",
            Theme::Juridique => "juridique",
            Theme::Financement => "financement",
            Theme::Autre => "autre",
        }
    }

    pub fn parse(s: &str) -> Option<Theme> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s.trim())
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Theme::Guide => "resources.theme.guide",
            Theme::Modele => "resources.theme.modele",
            Theme::Juridique => "resources.theme.juridique",
            Theme::Financement => "resources.theme.financement",
            Theme::Autre => "resources.theme.autre",
        }
    }
}

/// The page of a resource, which is also its ActivityPub id.
pub fn page_path(id: i64) -> String {
    format!("/ressources/{id}")
}

/// What the member typed (form or API). An empty `theme` means « Autre ».
#[derive(Debug, Clone, Default)]
pub struct ResourceInput {
    pub title: String,
    pub body: String,
    pub link_url: String,
    /// Each entry may hold several disciplines separated by commas.
    pub disciplines: Vec<String>,
    pub theme: String,
    pub members_only: bool,
}

/// A partial edit (API `PATCH`): `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct ResourcePatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub link_url: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub theme: Option<String>,
    pub members_only: Option<bool>,
    /// Among staff's picks (staff only).
    pub curated: Option<bool>,
}

impl ResourceInput {
    /// The stored resource as input, for an edit form or a partial edit.
    pub fn of(resource: &DbResource) -> ResourceInput {
        ResourceInput {
            title: resource.title.clone(),
            body: resource.body_markdown.clone(),
            link_url: resource.link_url.clone().unwrap_or_default(),
            disciplines: resource.disciplines.clone(),
            theme: resource.theme.clone(),
            members_only: resource.members_only,
        }
    }

    fn patched(mut self, p: ResourcePatch) -> ResourceInput {
        if let Some(v) = p.title {
            self.title = v;
        }
        if let Some(v) = p.body {
            self.body = v;
        }
        if let Some(v) = p.link_url {
            self.link_url = v;
        }
        if let Some(v) = p.disciplines {
            self.disciplines = v;
        }
        if let Some(v) = p.theme {
            self.theme = v;
        }
        if let Some(v) = p.members_only {
            self.members_only = v;
        }
        self
    }
}

fn link_ok(link: &str) -> bool {
    url::Url::parse(link)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Checks every field and reports every problem at once (422 naming the fields). `has_file`:
/// the resource has (or is given) a file, so a link is optional.
pub fn check(input: &ResourceInput, has_file: bool) -> AppResult<ResourceFields> {
    let mut errors = FieldErrors::default();
    let title = input.title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        errors.add("title", "field.required");
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.add("title", "field.too_long");
    }
    let body = input.body.replace("\r\n", "\n").trim().to_string();
    if body.chars().count() > MAX_BODY_CHARS {
        errors.add("body", "field.too_long");
    }
    let link = input.link_url.trim().to_string();
    if link.chars().count() > MAX_LINK_CHARS {
        errors.add("link_url", "field.too_long");
    } else if !link.is_empty() && !link_ok(&link) {
        errors.add("link_url", "resources.field.link_invalid");
    } else if link.is_empty() && !has_file {
        errors.add("link_url", "resources.field.file_or_link");
    }
    let mut seen = std::collections::HashSet::new();
    let disciplines: Vec<String> = input
        .disciplines
        .iter()
        .flat_map(|d| parse_disciplines(d))
        .filter(|d| seen.insert(d.to_lowercase()))
        .collect();
    if disciplines.len() > MAX_DISCIPLINES {
        errors.add("disciplines", "field.disciplines.too_many");
    } else if disciplines
        .iter()
        .any(|d| d.chars().count() > MAX_DISCIPLINE_CHARS)
    {
        errors.add("disciplines", "field.disciplines.too_long");
    }
    let theme = if input.theme.trim().is_empty() {
        Some(Theme::Autre)
    } else {
        Theme::parse(&input.theme)
    };
    if theme.is_none() {
        errors.add("theme", "resources.field.theme");
    }
    errors.into_result()?;
    Ok(ResourceFields {
        title,
        body_html: SafeHtml::from_markdown(&body).into_string(),
        body_markdown: body,
        // Normalised: percent-encoded, so it can stand in Markdown's `<…>` autolink.
        link_url: (!link.is_empty())
            .then(|| url::Url::parse(&link).map_or(link.clone(), |u| u.to_string())),
        disciplines,
        theme: theme.unwrap_or(Theme::Autre).as_str().to_string(),
        members_only: input.members_only,
    })
}

/// Whether `viewer` may see the resource at all: members-only ones need a logged-in member;
/// a hidden one is seen by its author and the moderators only; a deleted one by nobody.
pub fn can_see(viewer: Option<&DbAccount>, resource: &DbResource) -> bool {
    if resource.deleted_at.is_some() {
        return false;
    }
    if resource.hidden_at.is_some() {
        return viewer.is_some_and(|v| is_author(v, resource) || is_moderator(v));
    }
    !resource.members_only || viewer.is_some()
}

fn is_author(account: &DbAccount, resource: &DbResource) -> bool {
    resource.account_id == Some(account.id)
}

/// Whether `account` may edit, add a version to or delete the resource: its author or staff.
pub fn can_change(account: &DbAccount, resource: &DbResource) -> bool {
    account.suspended_at.is_none() && (is_author(account, resource) || is_staff(account))
}

/// Whether `account` may put the resource among staff's picks (or take it out).
pub fn can_curate(account: &DbAccount) -> bool {
    account.suspended_at.is_none() && is_staff(account)
}

/// The resource as `viewer` may see it: 404 when unknown or not visible to them (the same
/// answer, so a visitor cannot tell a members-only resource exists), 410 for a deleted
/// public one.
pub async fn visible(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    id: i64,
) -> AppResult<DbResource> {
    let mut conn = ctx.conn().await?;
    let resource = db::resources::by_id(&mut conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if resource.deleted_at.is_some() && !resource.members_only && resource.hidden_at.is_none() {
        return Err(AppError::new(ErrorKind::Gone, "this resource was deleted"));
    }
    if !can_see(viewer, &resource) {
        return Err(AppError::not_found());
    }
    // A suspended author's resources are withheld like the rest of what they wrote.
    if !viewer.is_some_and(is_moderator)
        && db::actors::is_sanctioned(&mut conn, resource.author_actor_id).await?
    {
        return Err(AppError::not_found());
    }
    Ok(resource)
}

/// A resource with its author and its versions (newest first), and what the viewer may do.
#[derive(Debug, Clone)]
pub struct ResourceView {
    pub resource: DbResource,
    pub author: DbActor,
    pub versions: Vec<DbResourceVersion>,
    pub can_change: bool,
    pub can_curate: bool,
}

/// One resource for `viewer` (see [`visible`]).
pub async fn show(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    id: i64,
) -> AppResult<ResourceView> {
    let resource = visible(ctx, viewer, id).await?;
    let mut conn = ctx.conn().await?;
    let author = db::actors::by_id(&mut conn, resource.author_actor_id).await?;
    let versions = db::resources::versions(&mut conn, resource.id).await?;
    Ok(ResourceView {
        can_change: viewer.is_some_and(|v| can_change(v, &resource)),
        can_curate: viewer.is_some_and(can_curate),
        resource,
        author,
        versions,
    })
}

/// The filters of the list, as typed.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub discipline: String,
    pub theme: String,
    pub q: String,
    /// 1-based; empty = 1.
    pub page: String,
}

/// One page of resources with their authors, and the total.
pub struct ListPage {
    pub total: i64,
    pub page: i64,
    pub items: Vec<(DbResource, DbActor)>,
}

/// The resources `viewer` may see that match `filter`: staff's picks first, then the
/// newest. Visitors never get members-only ones (nor learn how many there are).
pub async fn list(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    filter: &ListFilter,
) -> AppResult<ListPage> {
    let mut errors = FieldErrors::default();
    let theme = match filter.theme.trim() {
        "" => None,
        t => match Theme::parse(t) {
            Some(t) => Some(t.as_str().to_string()),
            None => {
                errors.add("theme", "resources.field.theme");
                None
            }
        },
    };
    let page = match filter.page.trim() {
        "" => 1,
        p => match p.parse::<i64>() {
            Ok(n) if (1..=100_000).contains(&n) => n,
            _ => {
                errors.add("page", "field.page.invalid");
                1
            }
        },
    };
    errors.into_result()?;
    let words: String = filter
        .q
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let discipline = filter.discipline.trim();
    let query = ListQuery {
        discipline: (!discipline.is_empty()).then(|| discipline.to_string()),
        theme,
        q: (!words.is_empty()).then_some(words),
        include_members_only: viewer.is_some(),
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let mut conn = ctx.conn().await?;
    let (rows, total) = db::resources::list(&mut conn, &query).await?;
    let mut items = Vec::with_capacity(rows.len());
    for resource in rows {
        let author = db::actors::by_id(&mut conn, resource.author_actor_id).await?;
        items.push((resource, author));
    }
    Ok(ListPage { total, page, items })
}

/// The newest public resources with their authors and latest versions, for the feeds and
/// nothing else (never a members-only one).
pub async fn latest_public(
    ctx: &AppContext,
    limit: i64,
) -> AppResult<Vec<(DbResource, DbActor, Option<DbResourceVersion>)>> {
    let mut conn = ctx.conn().await?;
    let rows = db::resources::latest_public(&mut conn, limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for resource in rows {
        let author = db::actors::by_id(&mut conn, resource.author_actor_id).await?;
        let latest = db::resources::versions(&mut conn, resource.id)
            .await?
            .into_iter()
            .next();
        out.push((resource, author, latest));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ResourceInput {
        ResourceInput {
            title: "  Guide   de la  SACEM ".into(),
            body: "Un **guide**.".into(),
            link_url: "https://example.org/guide".into(),
            disciplines: vec!["Musique, théâtre".into(), "musique".into()],
            theme: "guide".into(),
            members_only: false,
        }
    }

    #[test]
    fn the_input_is_checked_and_cleaned() {
        let fields = check(&input(), false).expect("valid");
        assert_eq!(fields.title, "Guide de la SACEM");
        assert_eq!(fields.disciplines, vec!["Musique", "théâtre"]);
        assert!(fields.body_html.contains("<strong>guide</strong>"));
        assert_eq!(fields.theme, "guide");
    }

    #[test]
    fn a_resource_needs_a_file_or_a_link_and_a_known_theme() {
        let mut no_link = input();
        no_link.link_url.clear();
        let e = check(&no_link, false).expect_err("neither file nor link");
        assert_eq!(e.fields[0].field, "link_url");
        assert!(check(&no_link, true).is_ok());
        let mut bad = input();
        bad.link_url = "javascript:alert(1)".into();
        bad.theme = "poesie".into();
        bad.title = " ".into();
        let e = check(&bad, true).expect_err("bad fields");
        let named: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, vec!["title", "link_url", "theme"]);
        let mut empty_theme = input();
        empty_theme.theme.clear();
        assert_eq!(check(&empty_theme, false).expect("valid").theme, "autre");
    }
}
