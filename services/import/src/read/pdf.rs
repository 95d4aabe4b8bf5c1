//! PDF with a text layer, through pdf-extract (fonts, encodings and ToUnicode maps are the hard
//! part of PDF text, and it handles them): every character with its position, grouped per page.
//!
//! Tables are recovered from the ruling lines the page draws (cell borders, read from the
//! content stream with lopdf, which pdf-extract re-exports): the lines' x and y positions give
//! the grid, a border missing between two grid cells merges them (text kept in the first
//! column of a horizontal merge, repeated down a vertical one, as for DOCX). Inside a cell,
//! lines that a word processor wrapped (the next word did not fit) are joined by a space, the
//! others are paragraph breaks. Text outside tables becomes paragraphs, one per line.
//!
//! A PDF with pages but no character at all is a scan and is refused as such; a page whose
//! text sits in a grid that cannot be formed (a table drawn without borders) is refused naming
//! the page, since guessing columns from gaps would silently mix cells.
//!
//! pdf-extract is not hardened against hostile files (it indexes and unwraps), so it runs
//! inside `catch_unwind`: a panic there is a damaged file, not a crash of the import.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use super::{Block, Format, ReadDocument, ReadErrorKind, Table, render};

#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    /// Baseline, from the top of the page.
    y: f64,
    w: f64,
    size: f64,
    ch: String,
}

#[derive(Default)]
struct Collector {
    pages: Vec<Vec<Glyph>>,
    heights: Vec<f64>,
    height: f64,
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _n: u32,
        media_box: &MediaBox,
        _art: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.height = media_box.ury - media_box.lly;
        self.heights.push(self.height);
        self.pages.push(Vec::new());
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        // The text matrix does not include the font size: glyph advances are in text space.
        let scale = (trm.m11 * trm.m11 + trm.m12 * trm.m12).sqrt();
        let g = Glyph {
            x: trm.m31,
            y: self.height - trm.m32,
            w: ((width * font_size + spacing) * scale).abs(),
            size: (font_size * scale).abs(),
            ch: ch.to_string(),
        };
        if let Some(p) = self.pages.last_mut()
            && g.x.is_finite()
            && g.y.is_finite()
            && g.w.is_finite()
            && g.size.is_finite()
        {
            p.push(g);
        }
        Ok(())
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

type Extracted = (Vec<Vec<Glyph>>, Vec<Vec<Rule>>);

pub(super) fn read(bytes: &[u8]) -> Result<ReadDocument, ReadErrorKind> {
    let corrupt = |what: String| ReadErrorKind::Corrupt {
        format: Format::Pdf,
        what,
    };
    let pages = catch_unwind(AssertUnwindSafe(|| -> Result<Extracted, String> {
        let doc = pdf_extract::Document::load_mem(bytes).map_err(|e| e.to_string())?;
        if doc.is_encrypted() {
            return Err("encrypted".to_string());
        }
        let mut c = Collector::default();
        pdf_extract::output_doc(&doc, &mut c).map_err(|e| format!("{e:?}"))?;
        let rules = page_rules(&doc, &c.heights);
        Ok((c.pages, rules))
    }))
    .map_err(|_| corrupt("its content cannot be interpreted (the PDF reader gave up)".to_string()))?;
    let (glyph_pages, rules) = match pages {
        Ok(p) => p,
        Err(e) if e == "encrypted" => return Err(ReadErrorKind::Encrypted),
        Err(e) => return Err(corrupt(e)),
    };
    let chars: usize = glyph_pages
        .iter()
        .map(|p| p.iter().filter(|g| !g.ch.trim().is_empty()).count())
        .sum();
    if chars == 0 {
        return Err(ReadErrorKind::ScannedPdf {
            pages: glyph_pages.len(),
        });
    }
    let mut blocks = Vec::new();
    let mut gridless = Vec::new();
    let mut carry = Vec::new();
    let mut carry_header = None;
    for (i, glyphs) in glyph_pages.iter().enumerate() {
        let rules = rules.get(i).map(Vec::as_slice).unwrap_or(&[]);
        if !page_blocks(glyphs, rules, &mut carry, &mut carry_header, &mut blocks) && !glyphs.is_empty() {
            gridless.push(i + 1);
        }
    }
    let mut doc = render(&blocks, Format::Pdf);
    let lines: Vec<&str> = doc.text.split('\n').collect();
    if crate::table::find_headers(&lines).is_empty() {
        let page = gridless.first().copied().unwrap_or(1);
        return Err(ReadErrorKind::PdfTable {
            page,
            what: "no table with cell borders holds a roadmap header; columns cannot be told apart without them"
                .to_string(),
        });
    }
    doc.notes.push(format!("{} page(s)", glyph_pages.len()));
    Ok(doc)
}

/// A ruling line (or thin filled rectangle) of a page, in page coordinates from the top.
#[derive(Debug, Clone, Copy)]
struct Rule {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rule {
    fn horizontal(&self) -> bool {
        (self.y1 - self.y0).abs() < 1.0 && (self.x1 - self.x0).abs() > 3.0
    }
    fn vertical(&self) -> bool {
        (self.x1 - self.x0).abs() < 1.0 && (self.y1 - self.y0).abs() > 3.0
    }
}

/// Straight lines drawn on each page: `m`/`l` paths and thin `re` rectangles, through the
/// current transformation matrix. Form XObjects are not entered (word processors draw table
/// borders in the page's own content).
fn page_rules(doc: &pdf_extract::Document, heights: &[f64]) -> Vec<Vec<Rule>> {
    let mut out = Vec::new();
    for (i, (_, id)) in doc.get_pages().into_iter().enumerate() {
        let height = heights.get(i).copied().unwrap_or(842.0);
        let mut rules = Vec::new();
        if let Ok(content) = doc.get_and_decode_page_content(id) {
            let mut ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
            let mut stack: Vec<[f64; 6]> = Vec::new();
            let mut cur: Option<(f64, f64)> = None;
            let mut path: Vec<Rule> = Vec::new();
            for op in content.operations.iter().take(2_000_000) {
                let n: Vec<f64> = op
                    .operands
                    .iter()
                    .filter_map(|o| o.as_float().ok())
                    .map(f64::from)
                    .collect();
                let pt = |ctm: &[f64; 6], x: f64, y: f64| {
                    let px = ctm[0] * x + ctm[2] * y + ctm[4];
                    let py = ctm[1] * x + ctm[3] * y + ctm[5];
                    (px, height - py)
                };
                match (op.operator.as_str(), n.as_slice()) {
                    ("q", _) if stack.len() < 64 => stack.push(ctm),
                    ("Q", _) => ctm = stack.pop().unwrap_or(ctm),
                    ("cm", [a, b, c, d, e, f]) => {
                        let m = ctm;
                        ctm = [
                            a * m[0] + b * m[2],
                            a * m[1] + b * m[3],
                            c * m[0] + d * m[2],
                            c * m[1] + d * m[3],
                            e * m[0] + f * m[2] + m[4],
                            e * m[1] + f * m[3] + m[5],
                        ];
                    }
                    ("m", [x, y]) => cur = Some(pt(&ctm, *x, *y)),
                    ("l", [x, y]) => {
                        let p = pt(&ctm, *x, *y);
                        if let Some(c) = cur {
                            path.push(Rule {
                                x0: c.0.min(p.0),
                                y0: c.1.min(p.1),
                                x1: c.0.max(p.0),
                                y1: c.1.max(p.1),
                            });
                        }
                        cur = Some(p);
                    }
                    ("re", [x, y, w, h]) => {
                        let a = pt(&ctm, *x, *y);
                        let b = pt(&ctm, x + w, y + h);
                        let r = Rule {
                            x0: a.0.min(b.0),
                            y0: a.1.min(b.1),
                            x1: a.0.max(b.0),
                            y1: a.1.max(b.1),
                        };
                        if r.x1 - r.x0 < 2.0 || r.y1 - r.y0 < 2.0 {
                            // A thin filled rectangle is a border line.
                            let (mx, my) = ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0);
                            if r.x1 - r.x0 < 2.0 {
                                path.push(Rule { x0: mx, x1: mx, ..r });
                            } else {
                                path.push(Rule { y0: my, y1: my, ..r });
                            }
                        } else {
                            for e in [
                                Rule { y1: r.y0, ..r },
                                Rule { y0: r.y1, ..r },
                                Rule { x1: r.x0, ..r },
                                Rule { x0: r.x1, ..r },
                            ] {
                                path.push(e);
                            }
                        }
                    }
                    ("S" | "s" | "f" | "F" | "f*" | "B" | "B*" | "b" | "b*", _) => {
                        rules.extend(path.drain(..).filter(|r| r.horizontal() || r.vertical()));
                        cur = None;
                    }
                    ("n", _) => {
                        path.clear();
                        cur = None;
                    }
                    _ => {}
                }
                if rules.len() > 100_000 {
                    break;
                }
            }
        }
        out.push(rules);
    }
    out
}

/// A table recovered from ruling lines: grid boundaries and the merged regions.
struct Grid {
    xs: Vec<f64>,
    ys: Vec<f64>,
    /// Region id of every grid cell, row-major.
    region: Vec<usize>,
}

impl Grid {
    fn cols(&self) -> usize {
        self.xs.len() - 1
    }
    fn rows(&self) -> usize {
        self.ys.len() - 1
    }
    fn cell_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let j = self.xs.windows(2).position(|w| x >= w[0] && x < w[1])?;
        let i = self.ys.windows(2).position(|w| y >= w[0] && y < w[1])?;
        Some((i, j))
    }
}

fn cluster(mut v: Vec<f64>, tol: f64) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    let mut out: Vec<f64> = Vec::new();
    for x in v {
        match out.last() {
            Some(l) if x - l <= tol => {}
            _ => out.push(x),
        }
    }
    out
}

fn find(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

/// Groups touching ruling lines into grids.
fn grids(rules: &[Rule]) -> Vec<Grid> {
    let rules: Vec<&Rule> = rules.iter().take(5_000).collect();
    let n = rules.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let touch = |a: &Rule, b: &Rule| {
        let t = 2.0;
        a.x0 - t <= b.x1 && b.x0 - t <= a.x1 && a.y0 - t <= b.y1 && b.y0 - t <= a.y1
    };
    for a in 0..n {
        for b in a + 1..n {
            if touch(rules[a], rules[b]) {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                parent[ra] = rb;
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<&Rule>> = std::collections::BTreeMap::new();
    for (k, r) in rules.iter().enumerate() {
        let root = find(&mut parent, k);
        groups.entry(root).or_default().push(r);
    }
    let mut out = Vec::new();
    for g in groups.values() {
        let hs: Vec<&&Rule> = g.iter().filter(|r| r.horizontal()).collect();
        let vs: Vec<&&Rule> = g.iter().filter(|r| r.vertical()).collect();
        let xs = cluster(vs.iter().map(|r| (r.x0 + r.x1) / 2.0).collect(), 1.5);
        let ys = cluster(hs.iter().map(|r| (r.y0 + r.y1) / 2.0).collect(), 1.5);
        if xs.len() < 2 || ys.len() < 2 || xs.len() > 200 || ys.len() > 2000 {
            continue;
        }
        let (rows, cols) = (ys.len() - 1, xs.len() - 1);
        let vsep = |i: usize, j: usize| {
            let (x, y) = (xs[j], (ys[i] + ys[i + 1]) / 2.0);
            vs.iter()
                .any(|r| (r.x0 - x).abs() <= 1.5 && r.y0 - 1.0 <= y && y <= r.y1 + 1.0)
        };
        let hsep = |i: usize, j: usize| {
            let (x, y) = ((xs[j] + xs[j + 1]) / 2.0, ys[i]);
            hs.iter()
                .any(|r| (r.y0 - y).abs() <= 1.5 && r.x0 - 1.0 <= x && x <= r.x1 + 1.0)
        };
        let mut region: Vec<usize> = (0..rows * cols).collect();
        for i in 0..rows {
            for j in 0..cols {
                if j + 1 < cols && !vsep(i, j + 1) {
                    let (a, b) = (find(&mut region, i * cols + j), find(&mut region, i * cols + j + 1));
                    region[b] = a.min(b);
                    region[a] = a.min(b);
                }
                if i + 1 < rows && !hsep(i + 1, j) {
                    let (a, b) = (find(&mut region, i * cols + j), find(&mut region, (i + 1) * cols + j));
                    region[b] = a.min(b);
                    region[a] = a.min(b);
                }
            }
        }
        for k in 0..region.len() {
            region[k] = find(&mut region, k);
        }
        out.push(Grid { xs, ys, region });
    }
    out
}

/// A line of text: its glyphs left to right.
struct TextLine<'a> {
    glyphs: Vec<&'a Glyph>,
}

impl TextLine<'_> {
    fn y(&self) -> f64 {
        self.glyphs.first().map(|g| g.y).unwrap_or(0.0)
    }
    fn size(&self) -> f64 {
        self.glyphs.iter().map(|g| g.size).fold(1.0, f64::max)
    }
    fn left(&self) -> f64 {
        self.glyphs.first().map(|g| g.x).unwrap_or(0.0)
    }
    fn right(&self) -> f64 {
        self.glyphs.iter().map(|g| g.x + g.w).fold(f64::MIN, f64::max)
    }
    fn text(&self) -> String {
        let mut s = String::new();
        let mut end: Option<f64> = None;
        for g in &self.glyphs {
            // A gap wider than a quarter of the font size is a space the PDF did not draw.
            if let Some(e) = end
                && g.x - e > g.size.max(1.0) * 0.2
                && !s.ends_with(' ')
                && g.ch != " "
            {
                s.push(' ');
            }
            s.push_str(&g.ch);
            end = Some(g.x + g.w);
        }
        s.trim().to_string()
    }
    /// Width of the first word (up to the first space).
    fn first_word_width(&self) -> f64 {
        let start = self.left();
        let mut end = start;
        let mut prev_end: Option<f64> = None;
        for g in &self.glyphs {
            if g.ch.trim().is_empty() || prev_end.is_some_and(|e| g.x - e > g.size.max(1.0) * 0.2) {
                break;
            }
            end = g.x + g.w;
            prev_end = Some(end);
        }
        end - start
    }
}

fn text_lines<'a>(glyphs: &[&'a Glyph]) -> Vec<TextLine<'a>> {
    let mut gs: Vec<&Glyph> = glyphs.to_vec();
    gs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<Vec<&Glyph>> = Vec::new();
    for g in gs {
        match lines.last_mut() {
            Some(l) if (l[0].y - g.y).abs() <= l[0].size.max(g.size).max(1.0) * 0.4 => l.push(g),
            _ => lines.push(vec![g]),
        }
    }
    lines
        .into_iter()
        .map(|mut l| {
            l.sort_by(|a, b| a.x.total_cmp(&b.x));
            TextLine { glyphs: l }
        })
        .filter(|l| l.glyphs.iter().any(|g| !g.ch.trim().is_empty()))
        .collect()
}

/// The text of one cell: lines a word processor wrapped are joined by a space (or nothing,
/// when a single word was broken to fit), the others kept as line breaks. A line was wrapped
/// when the first word of the next line would not have fitted in the room left on it.
fn cell_text(lines: &[TextLine], x0: f64, x1: f64) -> String {
    let mut out = String::new();
    let Some(first) = lines.first() else {
        return out;
    };
    let pad = (first.left() - x0).clamp(0.0, 20.0);
    let limit = x1 - pad;
    for (k, l) in lines.iter().enumerate() {
        let t = l.text();
        if k > 0 {
            let prev = &lines[k - 1];
            let space = l.size() * 0.25;
            let room = limit - prev.right();
            let wrapped = l.first_word_width() + space > room;
            let prev_text = prev.text();
            if !wrapped {
                out.push('\n');
            } else if prev_text.ends_with('-') {
                // "информационно-" + "методический", "11-" + "х", "-" + "Организация": the line
                // broke after a hyphen, which belongs to the word it ends.
            } else if !prev_text.contains(' ') && room < l.size() * 0.6 && limit - x0 < l.size() * 6.0 {
                // One word broken across lines because the column is narrower than it.
            } else {
                out.push(' ');
            }
        }
        out.push_str(&t);
    }
    out
}

/// A vertically merged cell reaching the bottom of a page: its column and text.
struct Carry {
    x0: f64,
    x1: f64,
    text: String,
}

enum Item {
    Line(String, f64, f64),
    Table(Table, f64, f64),
}

impl Item {
    fn top(&self) -> f64 {
        match self {
            Item::Line(_, t, _) | Item::Table(_, t, _) => *t,
        }
    }
    fn bottom(&self) -> f64 {
        match self {
            Item::Line(_, _, b) | Item::Table(_, _, b) => *b,
        }
    }
}

/// The blocks of one page: tables from its grids, lines of text outside them, blank lines
/// where empty paragraphs left a gap. Returns whether the page had a grid.
/// `carry` and `carry_header`: the vertically merged cells reaching the bottom of the previous
/// page and the first row of its last table. A merged cell is continued only into a table that
/// starts with that same row (the header repeated on the new page), that is, the same table.
fn page_blocks(
    glyphs: &[Glyph],
    rules: &[Rule],
    carry: &mut Vec<Carry>,
    carry_header: &mut Option<Vec<String>>,
    out: &mut Vec<Block>,
) -> bool {
    let grids = grids(rules);
    let mut inside: Vec<Vec<Vec<&Glyph>>> = grids.iter().map(|g| vec![Vec::new(); g.region.len()]).collect();
    let mut outside: Vec<&Glyph> = Vec::new();
    for g in glyphs {
        let (cx, cy) = (g.x + g.w / 2.0, g.y - g.size * 0.3);
        let hit = grids
            .iter()
            .enumerate()
            .find_map(|(k, grid)| grid.cell_at(cx, cy).map(|(i, j)| (k, grid.region[i * grid.cols() + j])));
        match hit {
            Some((k, r)) => inside[k][r].push(g),
            None => outside.push(g),
        }
    }
    let mut items: Vec<Item> = Vec::new();
    let lines = text_lines(&outside);
    // The right margin: where the longest lines of the page end.
    let margin = lines.iter().map(TextLine::right).fold(f64::MIN, f64::max);
    for (k, l) in lines.iter().enumerate() {
        let size = l.size();
        let (top, bottom) = (l.y() - size * 0.8, l.y() + size * 0.25);
        // A paragraph the word processor wrapped is one line of the document.
        if k > 0
            && let Some(Item::Line(prev, _, prev_bottom)) = items.last_mut()
        {
            let p = &lines[k - 1];
            let adjacent = top - *prev_bottom < size * 0.5;
            if adjacent && l.first_word_width() + size * 0.25 > margin - p.right() {
                prev.push(' ');
                prev.push_str(&l.text());
                *prev_bottom = bottom;
                continue;
            }
        }
        items.push(Item::Line(l.text(), top, bottom));
    }
    for (k, grid) in grids.iter().enumerate() {
        let (rows, cols) = (grid.rows(), grid.cols());
        let mut texts: Vec<String> = vec![String::new(); rows * cols];
        for (r, gs) in inside[k].iter().enumerate() {
            if gs.is_empty() {
                continue;
            }
            let (left, right) = (
                r % cols,
                (0..rows * cols)
                    .filter(|&c| grid.region[c] == r)
                    .map(|c| c % cols)
                    .max()
                    .unwrap_or(r % cols),
            );
            texts[r] = cell_text(&text_lines(gs), grid.xs[left], grid.xs[right + 1]);
        }
        // A vertically merged cell cut by a page break is drawn again, empty, at the top of the
        // table on the next page: it takes the text it had on the previous page.
        let continues = k == 0
            && carry_header.as_ref().is_some_and(|h| {
                (0..cols)
                    .map(|j| texts[grid.region[j]].clone())
                    .collect::<Vec<String>>()
                    == *h
            });
        if continues {
            for c in carry.iter() {
                let Some(j) = grid
                    .xs
                    .windows(2)
                    .position(|w| (w[0] - c.x0).abs() < 2.0 && (w[1] - c.x1).abs() < 2.0)
                else {
                    continue;
                };
                if let Some(r) = (0..rows.min(3))
                    .map(|i| grid.region[i * cols + j])
                    .find(|&r| texts[r].is_empty() && r % cols == j)
                {
                    texts[r] = c.text.clone();
                }
            }
        }
        if k + 1 == grids.len() {
            carry.clear();
            *carry_header = Some((0..cols).map(|j| texts[grid.region[j]].clone()).collect());
            for j in 0..cols {
                let r = grid.region[(rows - 1) * cols + j];
                let tall = r / cols < rows - 1;
                if tall && r % cols == j && !texts[r].is_empty() {
                    carry.push(Carry {
                        x0: grid.xs[j],
                        x1: grid.xs[j + 1],
                        text: texts[r].clone(),
                    });
                }
            }
        }
        let mut table = Table::default();
        for i in 0..rows {
            let mut row = Vec::with_capacity(cols);
            for j in 0..cols {
                let r = grid.region[i * cols + j];
                let (top, left) = (r / cols, r % cols);
                if left != j {
                    row.push(String::new());
                    continue;
                }
                if top == i {
                    let width = (j..cols).take_while(|&c| grid.region[i * cols + c] == r).count();
                    let height = (i..rows).take_while(|&c| grid.region[c * cols + j] == r).count();
                    if width > 1 || height > 1 {
                        table.merges.push((i, j, height, width));
                    }
                }
                // A vertically merged cell's text belongs to every row it spans.
                row.push(texts[r].clone());
            }
            table.rows.push(row);
        }
        let (top, bottom) = (grid.ys[0], grid.ys[rows]);
        items.push(Item::Table(table, top, bottom));
    }
    items.sort_by(|a, b| a.top().total_cmp(&b.top()));
    // A page break between paragraphs is a paragraph break (it often hides an empty
    // paragraph); a table running on to the next page stays one table.
    let starts_with_table = matches!(items.first(), Some(Item::Table(..)));
    let table_runs_on = starts_with_table && matches!(out.last(), Some(Block::Table(_)));
    if !out.is_empty() && !items.is_empty() && !table_runs_on {
        out.push(Block::Paragraph(String::new()));
    }
    // The line pitch of the body text (the median glyph size: titles are larger).
    let mut sizes: Vec<f64> = glyphs.iter().map(|g| g.size).collect();
    sizes.sort_by(f64::total_cmp);
    let pitch = sizes.get(sizes.len() / 2).copied().unwrap_or(1.0).max(1.0) * 1.15;
    let mut prev_bottom: Option<f64> = None;
    let had_grid = !grids.is_empty();
    for it in items {
        if let Some(b) = prev_bottom {
            let blanks = ((it.top() - b) / pitch).round().clamp(0.0, 3.0) as usize;
            for _ in 0..blanks {
                out.push(Block::Paragraph(String::new()));
            }
        }
        prev_bottom = Some(it.bottom());
        match it {
            Item::Line(s, _, _) => out.push(Block::Paragraph(s)),
            Item::Table(t, _, _) => out.push(Block::Table(t)),
        }
    }
    had_grid
}
