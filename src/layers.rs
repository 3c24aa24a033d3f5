//! The import rules between layers (docs/ARCHITECTURE.md), checked on the source: `service`
//! never imports `federation` or `web`, `federation` never imports `web`, `db` imports none of
//! the three.

use std::path::{Path, PathBuf};

/// The `.rs` files under `src/<layer>`.
fn files(layer: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(layer),
    ];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a source folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty(), "no source found for {layer}");
    found
}

/// Lines of `layer` that name one of `forbidden` (`federation` → `federation::` after `crate::`
/// or inside a `use crate::{…}` list), comments aside. No file is exempt.
fn violations(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for path in files(layer) {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).expect("read a source file");
        for (number, line) in offending_lines(&text, forbidden) {
            found.push(format!("{shown}:{number}: {line}"));
        }
    }
    found
}

/// The lines (numbered from 1) of `text` that import one of `forbidden`.
fn offending_lines<'a>(text: &'a str, forbidden: &[&str]) -> Vec<(usize, &'a str)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let names = |module: &&str| {
            code.contains(&format!("crate::{module}")) || code.starts_with(&format!("{module}::"))
        };
        if forbidden.iter().any(names) {
            found.push((index + 1, line));
        }
    }
    found
}

#[test]
fn service_imports_neither_federation_nor_web() {
    let found = violations("service", &["federation", "web"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn federation_never_imports_web() {
    let found = violations("federation", &["web"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn db_imports_no_upper_layer() {
    let found = violations("db", &["service", "federation", "web"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn imports_are_seen_in_every_spelling() {
    let text = "use crate::federation::Data;\nuse crate::{\n    federation::{outbox},\n    db,\n};\n\
                // federation::delivery in a comment\nlet x = crate::web::pages::render();\n\
                let config = ctx.config.federation.allow_private_addresses;\n";
    let lines: Vec<usize> = offending_lines(text, &["federation", "web"])
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(lines, vec![1, 3, 7]);
}
