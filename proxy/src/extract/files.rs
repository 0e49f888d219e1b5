//! Text out of files, recognised by their content rather than their name: text-like files
//! (any Unicode encoding), PDF (lopdf), Office Open XML (DOCX, PPTX, XLSX), OpenDocument
//! (ODT, ODS, ODP), and zip archives, nested to a bounded depth. Every limit is explicit:
//! what a limit leaves unread is reported, never dropped, so the caller can apply the
//! tenant's `on_uninspectable`.

use super::office;
use std::io::Read;

/// Bounds on extraction, so a hostile file costs a bounded amount of memory and time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileLimits {
    /// Text extracted from one request's files, in all.
    pub max_text_bytes: usize,
    /// Pages read from one PDF; a longer one is read this far and reported as not read whole.
    pub max_pdf_pages: usize,
    /// Entries read from archives (and Office files, which are archives), in all.
    pub max_entries: usize,
    /// How deep archives may nest inside archives.
    pub max_depth: usize,
    /// Decompressed size of one archive entry.
    pub max_entry_bytes: u64,
    /// Parts of one multipart body.
    pub max_parts: usize,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_text_bytes: 16 << 20,
            max_pdf_pages: 2_000,
            max_entries: 2_000,
            max_depth: 3,
            max_entry_bytes: 64 << 20,
            max_parts: 1_000,
        }
    }
}

static CONFIGURED: std::sync::OnceLock<FileLimits> = std::sync::OnceLock::new();

/// Sets the process's limits from the config (`limits.files`), once, at startup.
pub fn configure(limits: FileLimits) {
    let _ = CONFIGURED.set(limits);
}

/// The process's limits: as configured, or the defaults.
pub fn limits() -> &'static FileLimits {
    static DEFAULT: std::sync::OnceLock<FileLimits> = std::sync::OnceLock::new();
    CONFIGURED
        .get()
        .unwrap_or_else(|| DEFAULT.get_or_init(FileLimits::default))
}

/// One run of text from a file, and where in the file it is (`page 3`, `word/document.xml`,
/// `xl/worksheets/sheet1.xml`, `inner.zip/notes.txt`; empty for a whole text file).
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub at: String,
    pub text: String,
}

/// What a file held, and what could not be read of it (where, why).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// The format it was read as (`text`, `pdf`, `docx`, `zip`, ...).
    pub format: &'static str,
    pub pieces: Vec<Piece>,
    pub unread: Vec<(String, &'static str)>,
}

/// What is left of the limits while one request's files are read.
#[derive(Debug)]
pub struct Budget<'l> {
    limits: &'l FileLimits,
    text_left: usize,
    entries_left: usize,
}

impl<'l> Budget<'l> {
    /// A fresh budget for one request.
    pub fn new(limits: &'l FileLimits) -> Self {
        Budget {
            limits,
            text_left: limits.max_text_bytes,
            entries_left: limits.max_entries,
        }
    }
}

/// Reads the text of `bytes` (a file named `name`, for messages only). A parser that panics on
/// a hostile file is contained: the file is reported as not read, and the request goes on to
/// its policy decision and its audit record.
pub fn extract(name: &str, bytes: &[u8], budget: &mut Budget<'_>) -> Extracted {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut out = Extracted::default();
        read_into(name, "", bytes, 0, budget, &mut out);
        out
    }));
    caught.unwrap_or_else(|_| Extracted {
        format: "unknown",
        pieces: Vec::new(),
        unread: vec![(String::new(), "file whose extractor failed")],
    })
}

fn read_into(
    name: &str,
    at: &str,
    bytes: &[u8],
    depth: usize,
    budget: &mut Budget<'_>,
    out: &mut Extracted,
) {
    let format = if bytes.starts_with(b"%PDF-") {
        "pdf"
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        "zip"
    } else {
        "text"
    };
    if out.format.is_empty() {
        out.format = format;
    }
    match format {
        "pdf" => pdf(at, bytes, budget, out),
        "zip" => archive(name, at, bytes, depth, budget, out),
        _ => match super::text::decode("", bytes) {
            Some((text, _)) if looks_like_text(&text) => push(at, text.into_owned(), budget, out),
            _ => out.unread.push((at.to_string(), unreadable_kind(bytes))),
        },
    }
}

/// A decoded file is text when control characters other than whitespace are rare (a binary
/// format that happens to be valid UTF-8 is not).
pub fn looks_like_text(s: &str) -> bool {
    let controls = s
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        .count();
    controls * 100 <= s.chars().count().max(1)
}

/// Why a binary file has no extractor, by its magic bytes.
fn unreadable_kind(bytes: &[u8]) -> &'static str {
    const IMAGES: &[&[u8]] = &[
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"GIF8",
        b"RIFF",
        b"II*\0",
        b"MM\0*",
    ];
    if IMAGES.iter().any(|m| bytes.starts_with(m)) {
        "image (no text extractor)"
    } else if bytes.starts_with(b"\x1F\x8B") || bytes.starts_with(b"7z\xBC\xAF") {
        "compressed file other than zip"
    } else if bytes.starts_with(b"ID3") || bytes.starts_with(b"OggS") || bytes.starts_with(b"fLaC")
    {
        "audio (no text extractor)"
    } else {
        "binary file without a text extractor"
    }
}

fn push(at: &str, mut text: String, budget: &mut Budget<'_>, out: &mut Extracted) {
    if text.trim().is_empty() {
        return;
    }
    if text.len() > budget.text_left {
        let mut cut = budget.text_left;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        out.unread
            .push((at.to_string(), "text past the extraction limit"));
    }
    budget.text_left -= text.len();
    if !text.is_empty() {
        out.pieces.push(Piece {
            at: at.to_string(),
            text,
        });
    }
}

fn join(at: &str, inner: &str) -> String {
    if at.is_empty() {
        inner.to_string()
    } else {
        format!("{at}/{inner}")
    }
}

fn pdf(at: &str, bytes: &[u8], budget: &mut Budget<'_>, out: &mut Extracted) {
    let doc = match lopdf::Document::load_mem(bytes) {
        Ok(d) => d,
        Err(lopdf::Error::Decryption(_)) | Err(lopdf::Error::InvalidPassword) => {
            return out.unread.push((at.to_string(), "encrypted PDF"));
        }
        Err(_) => return out.unread.push((at.to_string(), "PDF that does not parse")),
    };
    if doc.is_encrypted() {
        return out.unread.push((at.to_string(), "encrypted PDF"));
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let limit = budget.limits.max_pdf_pages;
    if pages.len() > limit {
        out.unread.push((
            join(at, &format!("pages {}-{}", limit + 1, pages.len())),
            "pages past the PDF page limit",
        ));
    }
    for n in pages.into_iter().take(limit) {
        if budget.text_left == 0 {
            out.unread
                .push((at.to_string(), "text past the extraction limit"));
            break;
        }
        let here = join(at, &format!("page {n}"));
        match doc.extract_text_with_limit(&[n], budget.limits.max_entry_bytes as usize) {
            Ok(text) => push(&here, text, budget, out),
            Err(_) => out
                .unread
                .push((here, "PDF page whose text does not decode")),
        }
    }
}

fn archive(
    name: &str,
    at: &str,
    bytes: &[u8],
    depth: usize,
    budget: &mut Budget<'_>,
    out: &mut Extracted,
) {
    let mut zip = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(z) => z,
        Err(_) => return out.unread.push((at.to_string(), "zip that does not parse")),
    };
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(std::borrow::Cow::into_owned))
        .collect();
    let office = names.iter().any(|n| {
        n == "[Content_Types].xml" || n == "mimetype" && names.iter().any(|m| m == "content.xml")
    });
    if office && out.format == "zip" && at.is_empty() {
        out.format = if names.iter().any(|n| n.starts_with("word/")) {
            "docx"
        } else if names.iter().any(|n| n.starts_with("ppt/")) {
            "pptx"
        } else if names.iter().any(|n| n.starts_with("xl/")) {
            "xlsx"
        } else {
            "opendocument"
        };
    }
    if !office && depth >= budget.limits.max_depth {
        return out
            .unread
            .push((at.to_string(), "archive nested deeper than the limit"));
    }
    let mut shared: Vec<String> = Vec::new();
    let mut sheets: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else {
            out.unread.push((
                join(at, &format!("entry {i}")),
                "zip entry that does not read",
            ));
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let entry_name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(_) => format!("entry {i}"),
        };
        if office && !office::is_text_part(&entry_name) {
            // Styles, relationships, media: structure, not text the model reads. (Embedded
            // media is recorded as not read.)
            if entry_name.contains("/media/") || entry_name.contains("/embeddings/") {
                out.unread
                    .push((join(at, &entry_name), "embedded object in an Office file"));
            }
            continue;
        }
        let here = join(at, &entry_name);
        if budget.entries_left == 0 {
            out.unread.push((here, "archive entries past the limit"));
            break;
        }
        budget.entries_left -= 1;
        if entry.encrypted() {
            out.unread.push((here, "encrypted zip entry"));
            continue;
        }
        // Read at most one byte past the limit: the declared size may lie (a zip bomb).
        let cap = budget.limits.max_entry_bytes;
        let mut data = Vec::new();
        if (&mut entry).take(cap + 1).read_to_end(&mut data).is_err() {
            out.unread
                .push((here, "zip entry that does not decompress"));
            continue;
        }
        if data.len() as u64 > cap {
            out.unread
                .push((here, "archive entry larger than the limit"));
            continue;
        }
        if office && entry_name == "xl/sharedStrings.xml" {
            match office::shared_strings(&data) {
                Some(s) => shared = s,
                None => out.unread.push((here, "Office XML that does not parse")),
            }
        } else if office && entry_name.starts_with("xl/worksheets/") {
            // Read once the shared strings are known (the zip may list them later).
            sheets.push((here, data));
        } else if office {
            match office::xml_text(&data) {
                Some(text) => push(&here, text, budget, out),
                None => out.unread.push((here, "Office XML that does not parse")),
            }
        } else {
            read_into(name, &here, &data, depth + 1, budget, out);
        }
    }
    // Spreadsheet cells, each named by sheet and cell (`sheet1!B7`).
    for (here, data) in sheets {
        let sheet = here
            .rsplit('/')
            .next()
            .unwrap_or(&here)
            .trim_end_matches(".xml")
            .to_string();
        let prefix = match here.rfind("xl/worksheets/") {
            Some(i) => format!("{}{sheet}", &here[..i]),
            None => sheet,
        };
        match office::cells(&data, &shared) {
            Some(cells) => {
                for (cell, text) in cells {
                    push(&format!("{prefix}!{cell}"), text, budget, out);
                }
            }
            None => out.unread.push((here, "Office XML that does not parse")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::samples::{docx_with, pdf_with, zip_of};

    fn all_text(e: &Extracted) -> String {
        e.pieces
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn each_format_gives_its_text_and_where_it_was() {
        let limits = FileLimits::default();
        let mut b = Budget::new(&limits);
        let t = extract("a.yaml", b"aws_key: AKIAQWERTYUIOPASDFGH\n", &mut b);
        assert_eq!((t.format, t.pieces[0].at.as_str()), ("text", ""));
        let p = extract(
            "a.pdf",
            &pdf_with(&["first page", "key AKIAQWERTYUIOPASDFGH"]),
            &mut b,
        );
        assert_eq!(p.format, "pdf");
        assert_eq!(p.pieces[1].at, "page 2");
        assert!(p.pieces[1].text.contains("AKIAQWERTYUIOPASDFGH"), "{p:?}");
        let d = extract(
            "a.docx",
            &docx_with(&["Quarterly plan", "Tom &amp; Jerry"]),
            &mut b,
        );
        assert_eq!(d.format, "docx");
        assert_eq!(d.pieces[0].at, "word/document.xml");
        assert_eq!(all_text(&d), "Quarterly plan\nTom & Jerry\n");
        let x = zip_of(&[
            ("[Content_Types].xml", b"<Types/>".as_slice()),
            (
                "xl/sharedStrings.xml",
                b"<sst><si><t>card 4111 1111 1111 1111</t></si></sst>",
            ),
            (
                "xl/worksheets/sheet1.xml",
                b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\"><v>42</v></c></row></sheetData></worksheet>",
            ),
        ]);
        let x = extract("a.xlsx", &x, &mut b);
        assert_eq!(x.format, "xlsx");
        let cells: Vec<(&str, &str)> = x
            .pieces
            .iter()
            .map(|p| (p.at.as_str(), p.text.as_str()))
            .collect();
        assert_eq!(
            cells,
            [
                ("sheet1!A1", "card 4111 1111 1111 1111"),
                ("sheet1!B1", "42")
            ]
        );
        let nested = zip_of(&[("inner.zip", &zip_of(&[("notes.txt", b"hello there")]))]);
        let n = extract("outer.zip", &nested, &mut b);
        assert_eq!(n.pieces[0].at, "inner.zip/notes.txt");
        assert!(n.unread.is_empty());
    }

    #[test]
    fn what_cannot_be_read_is_reported_with_its_reason() {
        let limits = FileLimits {
            max_pdf_pages: 2,
            max_depth: 1,
            max_entry_bytes: 1 << 20,
            ..FileLimits::default()
        };
        let mut b = Budget::new(&limits);
        let png = extract("x.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", &mut b);
        assert_eq!(png.unread, [(String::new(), "image (no text extractor)")]);
        let long = extract("long.pdf", &pdf_with(&["a", "b", "c", "d"]), &mut b);
        assert_eq!(long.pieces.len(), 2);
        assert_eq!(
            long.unread,
            [("pages 3-4".to_string(), "pages past the PDF page limit")]
        );
        // A PDF of 10,000 pages is read to the page limit, and the rest is reported.
        let pages: Vec<String> = (0..10_000).map(|i| format!("p{i}")).collect();
        let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
        let huge = extract("huge.pdf", &pdf_with(&refs), &mut b);
        assert_eq!(huge.pieces.len(), 2);
        assert_eq!(
            huge.unread,
            [("pages 3-10000".to_string(), "pages past the PDF page limit")]
        );
        // A zip bomb: 64 MiB of zeros in a small entry stops at the entry limit.
        let bomb = zip_of(&[("zeros.txt", &vec![b'0'; 64 << 20])]);
        assert!(bomb.len() < 1 << 20);
        let z = extract("bomb.zip", &bomb, &mut b);
        assert_eq!(
            z.unread,
            [(
                "zeros.txt".to_string(),
                "archive entry larger than the limit"
            )]
        );
        let deep = zip_of(&[(
            "a.zip",
            &zip_of(&[("b.zip", &zip_of(&[("c.txt", b"deep")]))]),
        )]);
        let d = extract("deep.zip", &deep, &mut b);
        assert_eq!(
            d.unread,
            [("a.zip".to_string(), "archive nested deeper than the limit")]
        );
        // The text budget is shared by the request's files.
        let tight = FileLimits {
            max_text_bytes: 10,
            ..FileLimits::default()
        };
        let mut small = Budget::new(&tight);
        let t = extract("a.txt", b"0123456789abcdef", &mut small);
        assert_eq!(t.pieces[0].text, "0123456789");
        assert_eq!(t.unread[0].1, "text past the extraction limit");
    }
}
