//! The directory of the territory's cultural actors: members (individuals and structures),
//! venues and sharing offers, plus the entries the département listed before their actors
//! had an account (bulk import, claim invitations). This module holds the vocabulary they
//! share; search, import and claim live in their own files below.

pub mod claim;
pub mod import;
pub mod search;

/// What kind of actor a directory entry is (DESIGN §6: the `kind` filter of
/// `GET /api/v1/directory` and the import's `kind` column use these codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    Compagnie,
    Association,
    Bibliotheque,
    EcoleDeMusique,
    EtablissementScolaire,
    EhpadMedicoSocial,
    Collectivite,
    Artiste,
    Lieu,
    Autre,
}

impl DirectoryKind {
    pub const ALL: &'static [DirectoryKind] = &[
        DirectoryKind::Compagnie,
        DirectoryKind::Association,
        DirectoryKind::Bibliotheque,
        DirectoryKind::EcoleDeMusique,
        DirectoryKind::EtablissementScolaire,
        DirectoryKind::EhpadMedicoSocial,
        DirectoryKind::Collectivite,
        DirectoryKind::Artiste,
        DirectoryKind::Lieu,
        DirectoryKind::Autre,
    ];

    /// The code stored in `accounts.directory_kind` and `directory_entries.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryKind::Compagnie => "compagnie",
            DirectoryKind::Association => "association",
            DirectoryKind::Bibliotheque => "bibliotheque",
            DirectoryKind::EcoleDeMusique => "ecole_de_musique",
            DirectoryKind::EtablissementScolaire => "etablissement_scolaire",
            DirectoryKind::EhpadMedicoSocial => "ehpad_medico_social",
            DirectoryKind::Collectivite => "collectivite",
            DirectoryKind::Artiste => "artiste",
            DirectoryKind::Lieu => "lieu",
            DirectoryKind::Autre => "autre",
        }
    }

    /// A code; also forgiving what people type in a spreadsheet ("École de musique",
    /// "EHPAD", "Bibliothèque / médiathèque", "compagnie de théâtre").
    pub fn parse(s: &str) -> Option<DirectoryKind> {
        let wanted = crate::service::communes::normalize(s).replace(' ', "_");
        if let Some(k) = Self::ALL.iter().copied().find(|k| k.as_str() == wanted) {
            return Some(k);
        }
        let words = crate::service::communes::normalize(s);
        let has = |w: &str| words.split(' ').any(|x| x == w);
        Some(if has("compagnie") || has("cie") || has("troupe") {
            DirectoryKind::Compagnie
        } else if has("association") || has("asso") {
            DirectoryKind::Association
        } else if has("bibliotheque") || has("mediatheque") {
            DirectoryKind::Bibliotheque
        } else if has("musique") && (has("ecole") || has("conservatoire")) {
            DirectoryKind::EcoleDeMusique
        } else if has("ecole") || has("college") || has("lycee") || has("scolaire") {
            DirectoryKind::EtablissementScolaire
        } else if has("ehpad") || has("medico") || has("social") {
            DirectoryKind::EhpadMedicoSocial
        } else if has("collectivite") || has("mairie") || has("commune") || has("communaute") {
            DirectoryKind::Collectivite
        } else if has("artiste") {
            DirectoryKind::Artiste
        } else if has("lieu") || has("salle") || has("theatre") {
            DirectoryKind::Lieu
        } else if has("autre") {
            DirectoryKind::Autre
        } else {
            return None;
        })
    }

    /// i18n key of its name ("Compagnie", "Bibliothèque / médiathèque"…).
    pub fn label_key(self) -> &'static str {
        match self {
            DirectoryKind::Compagnie => "directory.kind.compagnie",
            DirectoryKind::Association => "directory.kind.association",
            DirectoryKind::Bibliotheque => "directory.kind.bibliotheque",
            DirectoryKind::EcoleDeMusique => "directory.kind.ecole_de_musique",
            DirectoryKind::EtablissementScolaire => "directory.kind.etablissement_scolaire",
            DirectoryKind::EhpadMedicoSocial => "directory.kind.ehpad_medico_social",
            DirectoryKind::Collectivite => "directory.kind.collectivite",
            DirectoryKind::Artiste => "directory.kind.artiste",
            DirectoryKind::Lieu => "directory.kind.lieu",
            DirectoryKind::Autre => "directory.kind.autre",
        }
    }

    /// Whether an account of this kind is a structure (`Organization`) rather than a person.
    pub fn is_structure(self) -> bool {
        !matches!(self, DirectoryKind::Artiste)
    }
}

/// The disciplines offered as suggestions in every form (members may type others). Filters
/// compare disciplines without case or accents.
pub const SUGGESTED_DISCIPLINES: &[&str] = &[
    "théâtre",
    "musique",
    "danse",
    "arts visuels",
    "lecture publique",
    "cirque",
    "arts de la rue",
    "marionnette",
    "patrimoine",
    "cinéma",
    "photographie",
    "arts numériques",
    "littérature",
    "conte",
];

/// The mean radius of the Earth, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance in kilometres between two points (WGS 84 degrees).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// A position as a point on the unit sphere, as the database stores each directory row's
/// (`pos_x`, `pos_y`, `pos_z`, set by the `cc_set_position` trigger with the same formulas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitPoint {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl UnitPoint {
    /// The point of a latitude and longitude in degrees.
    pub fn of(latitude: f64, longitude: f64) -> UnitPoint {
        let (lat, lon) = (latitude.to_radians(), longitude.to_radians());
        UnitPoint {
            x: lat.cos() * lon.cos(),
            y: lat.cos() * lon.sin(),
            z: lat.sin(),
        }
    }
}

/// The squared straight-line distance between two unit points that are `km` apart along the
/// Earth's surface: a row lies within `km` when its squared chord to the centre is at most
/// this.
pub fn chord2_of_km(km: f64) -> f64 {
    let half_angle = (km / (2.0 * EARTH_RADIUS_KM)).clamp(0.0, std::f64::consts::FRAC_PI_2);
    let chord = 2.0 * half_angle.sin();
    chord * chord
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_spreadsheet_words_are_forgiven() {
        for k in DirectoryKind::ALL {
            assert_eq!(DirectoryKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(
            DirectoryKind::parse("École de musique"),
            Some(DirectoryKind::EcoleDeMusique)
        );
        assert_eq!(
            DirectoryKind::parse("EHPAD"),
            Some(DirectoryKind::EhpadMedicoSocial)
        );
        assert_eq!(
            DirectoryKind::parse("Bibliothèque / médiathèque"),
            Some(DirectoryKind::Bibliotheque)
        );
        assert_eq!(DirectoryKind::parse("garage"), None);
    }

    #[test]
    fn squared_chords_order_like_distances_and_bound_a_radius() {
        let centre = (48.1725, 6.4511);
        let c = UnitPoint::of(centre.0, centre.1);
        let chord2 = |p: (f64, f64)| {
            let u = UnitPoint::of(p.0, p.1);
            (u.x - c.x).powi(2) + (u.y - c.y).powi(2) + (u.z - c.z).powi(2)
        };
        let places = [
            (48.2937, 6.9337),
            (48.0, 6.0),
            (43.3, 5.4),
            (48.18, 6.46),
            (51.0, 2.3),
        ];
        for a in places {
            // The km read back from a chord, as the search does.
            let km = 2.0 * EARTH_RADIUS_KM * (chord2(a).sqrt() / 2.0).min(1.0).asin();
            assert!((km - distance_km(centre, a)).abs() < 1e-6, "{a:?}");
            for b in places {
                assert_eq!(
                    chord2(a) < chord2(b),
                    distance_km(centre, a) < distance_km(centre, b)
                );
            }
        }
        let epinal_to_saint_die = distance_km(centre, places[0]);
        assert!(chord2(places[0]) <= chord2_of_km(epinal_to_saint_die + 0.01));
        assert!(chord2(places[0]) > chord2_of_km(epinal_to_saint_die - 0.01));
        assert!((chord2_of_km(1e9) - 4.0).abs() < 1e-12, "the whole sphere");
    }

    #[test]
    fn distances_are_in_kilometres() {
        // Épinal – Saint-Dié-des-Vosges: about 45 km as the crow flies.
        let d = distance_km((48.1725, 6.4511), (48.2937, 6.9337));
        assert!((35.0..50.0).contains(&d), "{d}");
        assert!(distance_km((48.0, 6.0), (48.0, 6.0)) < 1e-9);
    }
}
