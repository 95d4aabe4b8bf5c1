//! A small element tree over quick-xml for the DOCX and ODF readers: the documents are a few
//! hundred kilobytes of XML, and walking a tree keeps the table logic readable. Limits on depth
//! and node count keep hostile input from exhausting the stack or memory.

use std::io::Read;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::MAX_PART_BYTES;

const MAX_DEPTH: usize = 200;
const MAX_NODES: usize = 4_000_000;

#[derive(Debug, Clone, Default)]
pub(crate) struct El {
    /// Local name (no namespace prefix): "tbl", "table-cell".
    pub name: String,
    /// (local name, value) of every attribute.
    pub attrs: Vec<(String, String)>,
    pub kids: Vec<Node>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    El(El),
    Text(String),
}

impl El {
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == local).map(|(_, v)| v.as_str())
    }

    /// Child elements in order.
    pub fn elements(&self) -> impl Iterator<Item = &El> {
        self.kids.iter().filter_map(|n| match n {
            Node::El(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn child(&self, name: &str) -> Option<&El> {
        self.elements().find(|e| e.name == name)
    }

    /// A numeric attribute, clamped to `1..=max` (spans and repeat counts of hostile files).
    pub fn count_attr(&self, local: &str, max: usize) -> usize {
        self.attr(local)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, max.max(1))
    }
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

fn start(e: &quick_xml::events::BytesStart<'_>) -> El {
    let name = local(e.local_name().as_ref());
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| a.value.to_string());
            (local(a.key.local_name().as_ref()), v)
        })
        .collect();
    El {
        name,
        attrs,
        kids: Vec::new(),
    }
}

fn push_text(parent: &mut El, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(Node::Text(t)) = parent.kids.last_mut() {
        t.push_str(s);
    } else {
        parent.kids.push(Node::Text(s.to_string()));
    }
}

/// Parses a whole XML part into its root element.
pub(crate) fn parse(xml: &str) -> Result<El, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<El> = vec![El::default()];
    let mut nodes = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        nodes += 1;
        if nodes > MAX_NODES {
            return Err("the XML has too many nodes".to_string());
        }
        match ev {
            Event::Start(e) => {
                if stack.len() > MAX_DEPTH {
                    return Err(format!("the XML nests deeper than {MAX_DEPTH} elements"));
                }
                stack.push(start(&e));
            }
            Event::Empty(e) => {
                let el = start(&e);
                if let Some(top) = stack.last_mut() {
                    top.kids.push(Node::El(el));
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err("unbalanced XML".to_string());
                };
                match stack.last_mut() {
                    Some(parent) => parent.kids.push(Node::El(done)),
                    None => return Err("unbalanced XML".to_string()),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    push_text(top, &t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    push_text(top, &t);
                }
            }
            Event::GeneralRef(r) => {
                let s = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match &*r {
                        "amp" => "&".to_string(),
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        _ => String::new(),
                    },
                };
                if let Some(top) = stack.last_mut() {
                    push_text(top, &s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err("the XML ends before its elements are closed (truncated)".to_string());
    }
    let root = stack.pop().unwrap_or_default();
    root.elements()
        .next()
        .cloned()
        .ok_or_else(|| "the XML has no root element".to_string())
}

/// Reads one part of a ZIP container, refusing parts that inflate beyond [`MAX_PART_BYTES`].
pub(crate) fn read_part<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, String> {
    let file = zip.by_name(name).map_err(|e| format!("no readable part {name}: {e}"))?;
    let mut out = Vec::new();
    file.take(MAX_PART_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("part {name} cannot be decompressed: {e}"))?;
    if out.len() as u64 > MAX_PART_BYTES {
        return Err(format!("part {name} inflates to more than {MAX_PART_BYTES} bytes"));
    }
    Ok(out)
}

/// Reads and parses an XML part.
pub(crate) fn read_xml<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<El, String> {
    let bytes = read_part(zip, name)?;
    let text = String::from_utf8(bytes).map_err(|e| format!("part {name} is not UTF-8: {e}"))?;
    parse(text.strip_prefix('\u{feff}').unwrap_or(&text)).map_err(|e| format!("{name}: {e}"))
}
