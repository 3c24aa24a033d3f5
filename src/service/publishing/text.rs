//! What is derived from the text an author typed: hashtags and the slug of the page URL.

use std::collections::HashSet;

/// Hashtags kept from a body (the kind's hashtag comes on top).
pub const MAX_HASHTAGS: usize = 20;
const MAX_HASHTAG_CHARS: usize = 60;
const MAX_SLUG_CHARS: usize = 80;

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
}
