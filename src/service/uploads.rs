//! What an uploaded file may be, decided once for every upload of the instance (workspace
//! documents, resources of the library): its content type is decided by its bytes (`infer`,
//! then text detection) and must agree with its name's extension; programs are refused
//! whatever their name; the size limit is `storage.max_upload_mb` (413 past it); names carry
//! no path and no control character.

use crate::{
    context::AppContext,
    error::{AppError, AppResult, ErrorKind},
};

/// Longest file name (and workspace folder name), in characters (the tables allow 200).
pub const MAX_NAME_CHARS: usize = 200;

/// What is accepted: a content type recognised from the bytes and the extensions a file of
/// that type may carry.
const ALLOWED: &[(&str, &[&str])] = &[
    ("application/pdf", &["pdf"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/png", &["png"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("image/avif", &["avif"]),
    ("image/tiff", &["tif", "tiff"]),
    ("image/heif", &["heif", "heic"]),
    ("image/bmp", &["bmp"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/m4a", &["m4a"]),
    ("audio/aac", &["aac"]),
    ("audio/ogg", &["ogg", "oga"]),
    ("audio/opus", &["opus", "ogg"]),
    ("audio/x-flac", &["flac"]),
    ("audio/x-wav", &["wav"]),
    ("audio/x-aiff", &["aif", "aiff"]),
    ("video/mp4", &["mp4"]),
    ("video/x-m4v", &["m4v", "mp4"]),
    ("video/webm", &["webm"]),
    ("video/quicktime", &["mov"]),
    ("video/x-matroska", &["mkv"]),
    ("video/x-msvideo", &["avi"]),
    ("video/mpeg", &["mpg", "mpeg"]),
    ("application/msword", &["doc"]),
    ("application/vnd.ms-excel", &["xls"]),
    ("application/vnd.ms-powerpoint", &["ppt"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
    ),
    ("application/vnd.oasis.opendocument.text", &["odt"]),
    ("application/vnd.oasis.opendocument.spreadsheet", &["ods"]),
    ("application/vnd.oasis.opendocument.presentation", &["odp"]),
    ("application/rtf", &["rtf"]),
    ("application/epub+zip", &["epub"]),
    ("application/zip", &["zip"]),
    ("application/x-tar", &["tar"]),
    ("application/gzip", &["gz", "tgz"]),
    ("application/x-bzip2", &["bz2"]),
    ("application/x-xz", &["xz"]),
    ("application/x-7z-compressed", &["7z"]),
    ("application/vnd.rar", &["rar"]),
    ("text/plain", &["txt", "text"]),
    ("text/csv", &["csv"]),
    ("text/markdown", &["md", "markdown"]),
];

/// Office formats that are zip (or OLE) containers: the bytes say "zip", the extension says
/// which document it is.
const ZIP_FAMILY: &[&str] = &["docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"];
const OLE_FAMILY: &[&str] = &["doc", "xls", "ppt"];

/// Raster images shown inline on the document page (never SVG or HTML).
pub const INLINE_IMAGES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
];

/// Whether a stored content type may be served inline as a preview.
pub fn is_inline_image(content_type: &str) -> bool {
    INLINE_IMAGES.contains(&content_type)
}

/// Whether `content_type` is one of the accepted types (a type another server announces).
pub fn is_accepted_type(content_type: &str) -> bool {
    ALLOWED.iter().any(|(m, _)| *m == content_type)
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default()
}

fn mime_of_extension(ext: &str) -> Option<&'static str> {
    ALLOWED
        .iter()
        .find(|(_, exts)| exts.contains(&ext))
        .map(|(m, _)| *m)
}

/// Programs, by their first bytes, however short the file: ELF, PE (`MZ`), Mach-O (and fat
/// binaries), scripts with a shebang.
fn is_executable(bytes: &[u8]) -> bool {
    const MAGICS: &[&[u8]] = &[
        b"\x7fELF",
        b"MZ",
        b"#!",
        &[0xFE, 0xED, 0xFA, 0xCE],
        &[0xFE, 0xED, 0xFA, 0xCF],
        &[0xCE, 0xFA, 0xED, 0xFE],
        &[0xCF, 0xFA, 0xED, 0xFE],
        &[0xCA, 0xFE, 0xBA, 0xBE],
    ];
    MAGICS.iter().any(|m| bytes.starts_with(m))
}

/// The content type of a file, decided by its bytes and compared with the extension of its
/// name; `Err` holds the i18n key of the refusal (executable, type not accepted, content that
/// does not match the extension).
pub fn detect(name: &str, bytes: &[u8]) -> Result<&'static str, &'static str> {
    let ext = extension(name);
    if is_executable(bytes) {
        return Err("uploads.file.executable");
    }
    if let Some(kind) = infer::get(bytes) {
        let mime = kind.mime_type();
        if kind.matcher_type() == infer::MatcherType::App
            || matches!(
                mime,
                "text/x-shellscript"
                    | "application/x-executable"
                    | "application/vnd.microsoft.portable-executable"
                    | "application/x-mach-binary"
                    | "application/vnd.debian.binary-package"
                    | "application/x-rpm"
                    | "application/x-google-chrome-extension"
            )
        {
            return Err("uploads.file.executable");
        }
        if mime == "application/zip" && ZIP_FAMILY.contains(&ext.as_str())
            || mime == "application/x-ole-storage" && OLE_FAMILY.contains(&ext.as_str())
        {
            return mime_of_extension(&ext).ok_or("uploads.file.not_allowed");
        }
        let Some((allowed, exts)) = ALLOWED.iter().find(|(m, _)| *m == mime) else {
            return Err(if mime_of_extension(&ext).is_some() {
                "uploads.file.mismatch"
            } else {
                "uploads.file.not_allowed"
            });
        };
        return if exts.contains(&ext.as_str()) {
            Ok(allowed)
        } else if mime_of_extension(&ext).is_some() {
            Err("uploads.file.mismatch")
        } else {
            Err("uploads.file.not_allowed")
        };
    }
    let text = !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok();
    match (text, ext.as_str()) {
        (true, "txt" | "text" | "") => Ok("text/plain"),
        (true, "csv") => Ok("text/csv"),
        (true, "md" | "markdown") => Ok("text/markdown"),
        (_, e) if mime_of_extension(e).is_some() => Err("uploads.file.mismatch"),
        _ => Err("uploads.file.not_allowed"),
    }
}

/// A file (or folder) name as typed or uploaded: trimmed; a path (`/`, `\`, `..`) is
/// refused rather than reduced to its last part, so nobody is surprised by where a file
/// went; control characters and names over [`MAX_NAME_CHARS`] are refused.
pub fn check_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("field.required");
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err("uploads.name.path");
    }
    if name.chars().any(char::is_control) {
        return Err("uploads.name.control");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("field.too_long");
    }
    Ok(name.to_string())
}

/// Checks a file before anything is written: over `storage.max_upload_mb` (413), empty,
/// its name or its content refused (422), each naming the field `file`. Returns the checked
/// name and the content type decided by the bytes.
pub fn check_file(
    ctx: &AppContext,
    file_name: &str,
    bytes: &[u8],
) -> AppResult<(String, &'static str)> {
    if bytes.len() > ctx.config.max_upload_bytes() {
        return Err(too_large(ctx));
    }
    if bytes.is_empty() {
        return Err(AppError::field("file", "uploads.file.empty"));
    }
    let name = check_name(file_name).map_err(|key| AppError::field("file", key))?;
    let content_type = detect(&name, bytes).map_err(|key| AppError::field("file", key))?;
    Ok((name, content_type))
}

/// 413 naming the field `file` and the limit.
pub fn too_large(ctx: &AppContext) -> AppError {
    let mut error = AppError::field("file", "uploads.file.too_large");
    error.kind = ErrorKind::PayloadTooLarge;
    error.detail = format!(
        "file: larger than {} MB (storage.max_upload_mb)",
        ctx.config.storage.max_upload_mb
    );
    error.with_message("uploads.file.too_large")
}

/// Whether a file already read (`so_far` bytes) may take `more` bytes: readers of multipart
/// bodies stop with [`too_large`] as soon as it says no, before holding the whole body.
pub fn fits(ctx: &AppContext, so_far: usize, more: usize) -> bool {
    so_far.saturating_add(more) <= ctx.config.max_upload_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    const ELF: &[u8] = &[
        0x7F, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0,
    ];
    const PE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";

    #[test]
    fn type_is_decided_by_content_and_checked_against_the_extension() {
        assert_eq!(detect("dossier.pdf", PDF), Ok("application/pdf"));
        assert_eq!(detect("Affiche.PNG", PNG), Ok("image/png"));
        assert_eq!(
            detect("notes.txt", "Répétition à 14 h".as_bytes()),
            Ok("text/plain")
        );
        assert_eq!(
            detect("budget.csv", b"poste;montant\nsalle;300\n"),
            Ok("text/csv")
        );
        assert_eq!(detect("lisez-moi.md", b"# Titre\n"), Ok("text/markdown"));
        // An executable, whatever its name.
        assert_eq!(detect("contrat.pdf", ELF), Err("uploads.file.executable"));
        assert_eq!(detect("contrat.pdf", PE), Err("uploads.file.executable"));
        assert_eq!(
            detect("script.txt", b"#!/bin/sh\nrm -rf /\n"),
            Err("uploads.file.executable")
        );
        // Content and extension disagree.
        assert_eq!(detect("photo.pdf", PNG), Err("uploads.file.mismatch"));
        assert_eq!(
            detect("dossier.pdf", b"plain text"),
            Err("uploads.file.mismatch")
        );
        assert_eq!(detect("image.png", PDF), Err("uploads.file.mismatch"));
        // Types outside the list.
        assert_eq!(
            detect(
                "page.html",
                b"<!DOCTYPE html><html><script>alert(1)</script>"
            ),
            Err("uploads.file.not_allowed")
        );
        assert_eq!(
            detect(
                "logo.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"
            ),
            Err("uploads.file.not_allowed")
        );
        assert_eq!(
            detect("data.bin", &[0, 1, 2, 3, 0xff]),
            Err("uploads.file.not_allowed")
        );
    }

    #[test]
    fn names_refuse_paths_and_control_characters() {
        assert_eq!(
            check_name("  Dossier 2026.pdf "),
            Ok("Dossier 2026.pdf".into())
        );
        assert_eq!(check_name("../../etc/passwd"), Err("uploads.name.path"));
        assert_eq!(check_name("..\\boot.ini"), Err("uploads.name.path"));
        assert_eq!(check_name(".."), Err("uploads.name.path"));
        assert_eq!(check_name("a\u{0007}b.pdf"), Err("uploads.name.control"));
        assert_eq!(check_name("a\nb.pdf"), Err("uploads.name.control"));
        assert_eq!(check_name(&"x".repeat(201)), Err("field.too_long"));
        assert_eq!(check_name(""), Err("field.required"));
        assert!(is_inline_image("image/png") && !is_inline_image("image/svg+xml"));
    }
}
