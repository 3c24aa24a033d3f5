//! What the author typed and the rules it must follow, all checked before anything is
//! written and reported at once, each with its field.

use super::{
    kinds::{AnnouncementKind, Category},
    text::{MAX_HASHTAGS, extract_hashtags, slugify},
};
use crate::{
    error::{AppResult, FieldErrors},
    sanitize::SafeHtml,
    service::{
        communes,
        covers::{self, MAX_ALT_CHARS},
        profile::{ImageType, parse_disciplines},
    },
};
use chrono::{NaiveDate, Utc};
use std::collections::HashSet;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 100_000;
pub const MAX_SUMMARY_CHARS: usize = 500;
pub const MAX_COMMUNE_CHARS: usize = 100;
pub const MAX_DISCIPLINES: usize = 10;
pub const MAX_DISCIPLINE_CHARS: usize = 60;

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
    /// A commune as [`communes::parse_field`] reads it: an INSEE code, a name or "Name (88)".
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
pub(super) struct Checked {
    pub(super) title: String,
    pub(super) slug: String,
    pub(super) summary: String,
    pub(super) body_markdown: String,
    pub(super) body_html: SafeHtml,
    pub(super) hashtags: Vec<String>,
    pub(super) kind: Option<AnnouncementKind>,
    pub(super) deadline: Option<NaiveDate>,
    pub(super) disciplines: Vec<String>,
    /// The commune's official name (empty for none) and its INSEE code.
    pub(super) commune: String,
    pub(super) commune_code: Option<String>,
    pub(super) cover: CoverPlan,
}

/// The cover once checked.
#[derive(Debug, PartialEq)]
pub(super) enum CoverPlan {
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
    pub(super) fn alt(&self) -> Option<&str> {
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
/// `has_cover` says whether a cover is stored; `max_cover` is the image size limit in bytes;
/// `departement` (the configured one) decides between communes of the same name.
pub(super) fn check(
    category: Category,
    input: &PostInput,
    previous_deadline: Option<NaiveDate>,
    has_cover: bool,
    max_cover: usize,
    departement: &str,
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
    let (mut kind, mut deadline, mut disciplines, mut commune, mut commune_code) =
        (None, None, Vec::new(), String::new(), None);
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
        let typed = one_line(&input.commune);
        if typed.chars().count() > MAX_COMMUNE_CHARS {
            errors.add("commune", "field.too_long");
        } else {
            match communes::parse_field(&typed, departement) {
                Ok(Some(c)) => {
                    commune = c.name.to_string();
                    commune_code = Some(c.code.to_string());
                }
                Ok(None) => {}
                Err(key) => errors.add("commune", key),
            }
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
        commune_code,
        cover,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_reported_with_its_field() {
        let input = PostInput {
            title: "  ".into(),
            body: "x".repeat(MAX_BODY_CHARS + 1),
            kind: "concert".into(),
            deadline: "2001-01-01".into(),
            ..Default::default()
        };
        let e =
            check(Category::Announcement, &input, None, false, 1024, "88").expect_err("refused");
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
        let e =
            check(Category::Announcement, &bad_date, None, false, 1024, "88").expect_err("refused");
        assert_eq!(e.fields[0].message_key, "field.deadline.invalid");
        // An edit may keep a deadline that passed since.
        let past = NaiveDate::from_ymd_opt(2001, 1, 1).expect("date");
        let keep = PostInput {
            deadline: "2001-01-01".into(),
            ..bad_date
        };
        check(Category::Announcement, &keep, Some(past), false, 1024, "88").expect("kept");
    }

    #[test]
    fn the_commune_comes_from_the_official_list() {
        let input = PostInput {
            title: "t".into(),
            body: "b".into(),
            kind: "emploi".into(),
            commune: "st die des vosges".into(),
            ..Default::default()
        };
        let c = check(Category::Announcement, &input, None, false, 1024, "88").expect("valid");
        assert_eq!(c.commune, "Saint-Dié-des-Vosges");
        assert_eq!(c.commune_code.as_deref(), Some("88413"));
        let unknown = PostInput {
            commune: "Atlantide".into(),
            ..input
        };
        let e =
            check(Category::Announcement, &unknown, None, false, 1024, "88").expect_err("refused");
        assert_eq!(e.fields[0].field, "commune");
        assert_eq!(e.fields[0].message_key, "field.commune.unknown");
    }
}
