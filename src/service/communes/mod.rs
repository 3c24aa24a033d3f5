//! The reference list of French communes, so that a saved filter naming a commune can be
//! checked ("unknown commune" is a field error, not an alert that never fires) and matched
//! against the free-text commune of announcements.
//!
//! The list is `db::reference::COMMUNES_CSV` (its header tells where it comes from), compiled
//! into the binary and indexed here on first use; the same file fills the `communes` table
//! that SQL joins on (search by distance, aggregation by EPCI).

use std::collections::HashMap;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// One commune.
#[derive(Debug, Clone, PartialEq)]
pub struct Commune {
    /// INSEE code (`88160`; Corsica `2A004`).
    pub code: &'static str,
    pub name: &'static str,
    /// Département code (`88`, `2A`, `971`).
    pub departement: &'static str,
    /// Space-separated postal codes (may be empty).
    pub postal_codes: &'static str,
    /// SIREN code of its EPCI (intercommunalité), when it belongs to one.
    pub epci: Option<&'static str>,
    pub population: Option<i32>,
    /// Its centre (WGS 84), when known.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl Commune {
    /// "Épinal (88)": the name with its département, unambiguous for people.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.departement)
    }
}

struct Index {
    communes: Vec<Commune>,
    by_code: HashMap<&'static str, usize>,
    /// Normalised name → communes of that name.
    by_name: HashMap<String, Vec<usize>>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let communes: Vec<Commune> = crate::db::reference::commune_lines()
        .map(|c| Commune {
            code: c.code,
            name: c.name,
            departement: c.departement,
            postal_codes: c.postal_codes,
            epci: c.epci,
            population: c.population,
            latitude: c.latitude,
            longitude: c.longitude,
        })
        .collect();
    let mut by_code = HashMap::with_capacity(communes.len());
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::with_capacity(communes.len());
    for (i, c) in communes.iter().enumerate() {
        by_code.insert(c.code, i);
        by_name.entry(normalize(c.name)).or_default().push(i);
    }
    Index {
        communes,
        by_code,
        by_name,
    }
});

/// A name as compared: lower case, accents and ligatures removed, every run of characters
/// that are not letters or digits (hyphens, apostrophes, spaces) made one space. So
/// "Saint-Dié-des-Vosges", "saint die des vosges" and "SAINT-DIE-DES-VOSGES" are equal. The
/// abbreviations "St"/"Ste" (with or without a dot) read as "saint"/"sainte", so
/// "St-Dié-des-Vosges" is that commune too.
pub fn normalize(name: &str) -> String {
    let joined = normalize_chars(name);
    if !joined.split(' ').any(|w| w == "st" || w == "ste") {
        return joined;
    }
    joined
        .split(' ')
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn normalize_chars(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.nfd() {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            match c {
                'œ' | 'Œ' => out.push_str("oe"),
                'æ' | 'Æ' => out.push_str("ae"),
                _ => out.extend(c.to_lowercase()),
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// The commune of an INSEE code.
pub fn by_code(code: &str) -> Option<&'static Commune> {
    let index = &*INDEX;
    index
        .by_code
        .get(code.trim().to_ascii_uppercase().as_str())
        .map(|&i| &index.communes[i])
}

/// Every commune of that name (compared normalised), in INSEE code order.
pub fn by_name(name: &str) -> Vec<&'static Commune> {
    let index = &*INDEX;
    index
        .by_name
        .get(&normalize(name))
        .map(|ids| ids.iter().map(|&i| &index.communes[i]).collect())
        .unwrap_or_default()
}

/// The communes of a département, by name.
pub fn in_departement(departement: &str) -> Vec<&'static Commune> {
    let mut found: Vec<&'static Commune> = INDEX
        .communes
        .iter()
        .filter(|c| c.departement == departement)
        .collect();
    found.sort_by_cached_key(|c| normalize(c.name));
    found
}

/// What a commune typed by a member designates.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Found(&'static Commune),
    /// Several communes have that name: the member must add the département, "Name (88)",
    /// or give the INSEE code.
    Ambiguous(Vec<&'static Commune>),
    Unknown,
}

/// Splits "Name (88)" into the name and the département.
fn split_departement(input: &str) -> Option<(&str, &str)> {
    let rest = input.trim().strip_suffix(')')?;
    let (name, dep) = rest.rsplit_once('(')?;
    let dep = dep.trim();
    (!dep.is_empty() && dep.len() <= 3 && dep.chars().all(|c| c.is_ascii_alphanumeric()))
        .then_some((name.trim(), dep))
}

/// Resolves what a member typed: an INSEE code, a name, or "Name (département)".
pub fn resolve(input: &str) -> Resolved {
    let input = input.trim();
    if let Some(c) = by_code(input) {
        return Resolved::Found(c);
    }
    let (name, departement) = match split_departement(input) {
        Some((name, dep)) => (name, Some(dep.to_ascii_uppercase())),
        None => (input, None),
    };
    let mut found = by_name(name);
    if let Some(dep) = departement {
        found.retain(|c| c.departement == dep);
    }
    match found.len() {
        0 => Resolved::Unknown,
        1 => Resolved::Found(found[0]),
        _ => Resolved::Ambiguous(found),
    }
}

/// The commune an imported row designates by its name and postal code: the name compared as
/// [`normalize`] does ("St"/"Saint", accents, hyphens forgiven), or an INSEE code; among
/// communes of that name, those whose postal codes include `postal_code` (when given), then
/// those of `preferred_departement`.
pub fn resolve_with_postal_code(
    name: &str,
    postal_code: &str,
    preferred_departement: &str,
) -> Resolved {
    let postal_code = postal_code.trim();
    let mut found = match resolve(name) {
        Resolved::Found(c) => vec![c],
        Resolved::Ambiguous(all) => all,
        Resolved::Unknown => return Resolved::Unknown,
    };
    if !postal_code.is_empty() {
        let with_code: Vec<_> = found
            .iter()
            .copied()
            .filter(|c| c.postal_codes.split(' ').any(|p| p == postal_code))
            .collect();
        if !with_code.is_empty() {
            found = with_code;
        } else if let Some(dep) = departement_of_postal_code(postal_code) {
            found.retain(|c| c.departement == dep);
        }
    }
    if found.len() > 1 {
        let local: Vec<_> = found
            .iter()
            .copied()
            .filter(|c| c.departement == preferred_departement)
            .collect();
        if !local.is_empty() {
            found = local;
        }
    }
    match found.len() {
        0 => Resolved::Unknown,
        1 => Resolved::Found(found[0]),
        _ => Resolved::Ambiguous(found),
    }
}

/// A commune typed in a form field, read the way every form reads it: empty → `Ok(None)`;
/// an INSEE code, a name ("St"/"Saint", accents and hyphens forgiven) or "Name (88)"; a
/// name several communes share is taken in `departement` (the configured
/// `instance.departement`) when one of them is there. Errors are message keys for the
/// field: `field.commune.unknown`, `field.commune.ambiguous`.
pub fn parse_field(
    input: &str,
    departement: &str,
) -> Result<Option<&'static Commune>, &'static str> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    match resolve_with_postal_code(input, "", departement) {
        Resolved::Found(c) => Ok(Some(c)),
        Resolved::Ambiguous(_) => Err("field.commune.ambiguous"),
        Resolved::Unknown => Err("field.commune.unknown"),
    }
}

/// What a form shows for a stored commune code so that [`parse_field`] reads it back as the
/// same commune: its name, or "Name (dep)" when the name alone would designate another one
/// (or several); empty for no commune. An unknown code is shown as it is.
pub fn field_value(code: Option<&str>, departement: &str) -> String {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return String::new();
    };
    match by_code(code) {
        Some(c) if parse_field(c.name, departement) == Ok(Some(c)) => c.name.to_string(),
        Some(c) => c.label(),
        None => code.to_string(),
    }
}

/// The département a postal code belongs to, as far as its first digits tell (`88000` →
/// `88`; Corsica's `20xxx` and overseas `97x` need more than the code: `None` for Corsica).
fn departement_of_postal_code(postal_code: &str) -> Option<String> {
    if postal_code.len() != 5 || !postal_code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match &postal_code[..2] {
        "20" => None,
        "97" | "98" => Some(postal_code[..3].to_string()),
        two => Some(two.to_string()),
    }
}

/// The INSEE codes of the communes a free-text commune (as announcements carry it) may be:
/// every commune of that name, or only the one of the département when it says
/// "Name (88)", or the commune of an INSEE code. Empty when the text names no commune.
pub fn codes_for_text(text: &str) -> Vec<&'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    if let Some(c) = by_code(text) {
        return vec![c.code];
    }
    let mut found = by_name(text);
    if found.is_empty()
        && let Some((name, dep)) = split_departement(text)
    {
        let dep = dep.to_ascii_uppercase();
        found = by_name(name);
        found.retain(|c| c.departement == dep);
    }
    found.into_iter().map(|c| c.code).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_complete_and_indexed() {
        assert!(INDEX.communes.len() > 34_000);
        let epinal = by_code("88160").expect("Épinal");
        assert_eq!(epinal.name, "Épinal");
        assert_eq!(epinal.departement, "88");
        assert!(epinal.postal_codes.contains("88000"));
        assert_eq!(by_code("2a004").map(|c| c.name), Some("Ajaccio"));
        assert!(by_code("99999").is_none());
    }

    #[test]
    fn saint_abbreviations_and_postal_codes_pick_the_commune() {
        let Resolved::Found(c) = resolve("St-Dié-des-Vosges") else {
            panic!("St abbreviation not forgiven");
        };
        assert_eq!(c.code, "88413");
        assert_eq!(normalize("Ste Marguerite"), normalize("Sainte-Marguerite"));
        // Several communes are called "Saint-Martin"; the postal code decides.
        let Resolved::Found(c) = resolve_with_postal_code("st martin", "67220", "88") else {
            panic!("postal code did not decide");
        };
        assert_eq!(c.code, "67426");
        assert_eq!(
            resolve_with_postal_code("Nowhere-sur-Rien", "88000", "88"),
            Resolved::Unknown
        );
        // A name shared across départements, no postal code: the configured one wins.
        let Resolved::Found(c) = resolve_with_postal_code("charmes", "", "88") else {
            panic!("Charmes");
        };
        assert_eq!(c.departement, "88");
        assert!(matches!(
            resolve_with_postal_code("Charmes", "", "75"),
            Resolved::Ambiguous(_)
        ));
    }

    #[test]
    fn form_fields_prefer_the_configured_departement() {
        assert_eq!(parse_field("  ", "88"), Ok(None));
        assert_eq!(
            parse_field("charmes", "88").map(|c| c.map(|c| c.code)),
            Ok(Some("88090"))
        );
        assert_eq!(
            parse_field("Charmes (21)", "88").map(|c| c.map(|c| c.departement)),
            Ok(Some("21"))
        );
        assert_eq!(parse_field("Charmes", "75"), Err("field.commune.ambiguous"));
        assert_eq!(parse_field("Atlantide", "88"), Err("field.commune.unknown"));
    }

    #[test]
    fn field_values_read_back_as_the_same_commune() {
        assert_eq!(field_value(None, "88"), "");
        assert_eq!(field_value(Some("88090"), "88"), "Charmes");
        assert_eq!(field_value(Some("21146"), "88"), "Charmes (21)");
        for code in ["88090", "21146", "88413", "62735"] {
            let shown = field_value(Some(code), "88");
            assert_eq!(
                parse_field(&shown, "88").map(|c| c.map(|c| c.code)),
                Ok(Some(code)),
                "{shown}"
            );
        }
    }

    #[test]
    fn names_compare_without_case_accents_or_hyphens() {
        assert_eq!(normalize("Saint-Dié-des-Vosges"), "saint die des vosges");
        assert_eq!(
            normalize("  SAINT DIE   des vosges "),
            "saint die des vosges"
        );
        assert_eq!(normalize("L'Haÿ-les-Roses"), "l hay les roses");
        assert_eq!(normalize("Œuilly"), "oeuilly");
        assert_eq!(
            resolve("saint die des vosges"),
            Resolved::Found(by_code("88413").expect("Saint-Dié"))
        );
        assert_eq!(
            resolve("EPINAL"),
            Resolved::Found(by_code("88160").expect("x"))
        );
    }

    #[test]
    fn shared_names_need_the_departement_or_the_code() {
        // Several communes are called Saint-Amand.
        let Resolved::Ambiguous(many) = resolve("Saint-Amand") else {
            panic!("Saint-Amand is ambiguous");
        };
        assert!(many.len() > 1);
        let Resolved::Found(one) = resolve("Saint-Amand (62)") else {
            panic!("Saint-Amand (62) is one commune");
        };
        assert_eq!(one.departement, "62");
        assert_eq!(resolve(one.code), Resolved::Found(one));
        assert_eq!(resolve("Nulle-Part-sur-Rien"), Resolved::Unknown);
        assert_eq!(resolve("Épinal (75)"), Resolved::Unknown);
    }

    #[test]
    fn free_text_communes_map_to_codes() {
        assert_eq!(codes_for_text("épinal"), vec!["88160"]);
        assert_eq!(codes_for_text("Saint-Amand (62)").len(), 1);
        assert!(codes_for_text("Saint-Amand").len() > 1);
        assert!(codes_for_text("").is_empty());
        assert!(codes_for_text("Atlantis").is_empty());
        assert_eq!(in_departement("88").len(), 506);
    }
}
