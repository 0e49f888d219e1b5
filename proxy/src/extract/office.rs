//! Office Open XML (DOCX, PPTX, XLSX) and OpenDocument parts as text: which parts of the
//! archive hold text, and the text of their XML (paragraphs, shared strings, cells by
//! reference).

/// The parts of an Office Open XML or OpenDocument file that hold its text.
pub fn is_text_part(entry: &str) -> bool {
    let word = entry.starts_with("word/")
        && (entry == "word/document.xml"
            || ["header", "footer", "footnotes", "endnotes", "comments"]
                .iter()
                .any(|p| entry.starts_with(&format!("word/{p}"))));
    let slides = (entry.starts_with("ppt/slides/slide") || entry.starts_with("ppt/notesSlides/"))
        && entry.ends_with(".xml");
    let sheets = entry == "xl/sharedStrings.xml"
        || (entry.starts_with("xl/worksheets/sheet") && entry.ends_with(".xml"))
        || (entry.starts_with("xl/comments") && entry.ends_with(".xml"));
    word || slides || sheets || entry == "content.xml"
}

/// A workbook's shared strings (`<si>` items, each the text of its runs), by index.
pub fn shared_strings(data: &[u8]) -> Option<Vec<String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(data);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == "si" => current = Some(String::new()),
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(r) => {
                if let (Some(c), Some(ch)) = (current.as_mut(), entity(&r)) {
                    c.push(ch);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "si" => {
                out.push(current.take().unwrap_or_default())
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(out)
}

/// A worksheet's non-empty cells: (reference, text), shared strings resolved.
pub fn cells(data: &[u8], shared: &[String]) -> Option<Vec<(String, String)>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(data);
    let mut out = Vec::new();
    // The cell being read: its reference, whether it holds a shared-string index, its text.
    let mut cell: Option<(String, bool, String)> = None;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == "c" => {
                let mut r = String::new();
                let mut shared_ref = false;
                for a in e.attributes().flatten() {
                    match a.key.local_name().as_ref() {
                        "r" => r = a.value.to_string(),
                        "t" => shared_ref = a.value.as_ref() == "s",
                        _ => {}
                    }
                }
                cell = Some((r, shared_ref, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = cell.as_mut() {
                    text.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(r) => {
                if let (Some((_, _, text)), Some(ch)) = (cell.as_mut(), entity(&r)) {
                    text.push(ch);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "c" => {
                if let Some((r, shared_ref, text)) = cell.take() {
                    let text = if shared_ref {
                        text.trim()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| shared.get(i).cloned())
                            .unwrap_or_default()
                    } else {
                        text
                    };
                    if !text.trim().is_empty() {
                        out.push((r, text));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(out)
}

/// The character an entity or character reference stands for.
fn entity(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c);
    }
    match &**r {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// The text of an XML document: character data, with a line break after each paragraph,
/// row or cell, so words of neighbouring paragraphs do not run together.
pub fn xml_text(data: &[u8]) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(data);
    let mut text = String::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Text(t)) => text.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0)),
            Ok(Event::CData(t)) => {
                text.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0))
            }
            Ok(Event::GeneralRef(r)) => text.extend(entity(&r)),
            Ok(Event::End(e)) => {
                let name = e.local_name();
                if matches!(name.as_ref(), "p" | "row" | "si" | "h" | "tr") && !text.ends_with('\n')
                {
                    text.push('\n');
                } else if matches!(name.as_ref(), "c" | "tc" | "table-cell" | "tab") {
                    text.push('\t');
                }
            }
            Ok(Event::Eof) => break,
            Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
    Some(text)
}
