//! What a publication is: a blog post or an announcement, and the kinds of announcement.

use crate::db::posts::{CATEGORY_ANNOUNCEMENT, CATEGORY_POST, DbPost};
use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_is_refused() {
        for kind in AnnouncementKind::ALL {
            assert_eq!(AnnouncementKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AnnouncementKind::parse("concert"), None);
        assert_eq!(AnnouncementKind::AppelAProjets.hashtag(), "appelAProjets");
    }
}
