//! A small page layout on top of printpdf: A4 pages, a cursor that moves down, text in a
//! font chain, key–value blocks, tables that break across pages with their header
//! repeated, QR codes drawn as vector squares, images, and a footer with page numbers.
//! Positions are millimetres from the page's top-left corner.

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, RawImage, Rect, Rgb, TextItem, TextMatrix, XObjectTransform,
};

use super::fonts::FontSet;

pub const PAGE_W: f32 = 210.0;
pub const PAGE_H: f32 = 297.0;
pub const MARGIN: f32 = 15.0;
/// the lowest the body may reach; the footer lives below
pub const BODY_BOTTOM: f32 = PAGE_H - 20.0;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const PT_PER_MM: f32 = 72.0 / 25.4;

fn pt(mm: f32) -> Pt {
    Pt(mm * PT_PER_MM)
}

fn grey(v: f32) -> Color {
    Color::Rgb(Rgb {
        r: v,
        g: v,
        b: v,
        icc_profile: None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
    Center,
}

/// A table column: its title, width in mm and alignment.
pub struct Column {
    pub title: &'static str,
    pub width: f32,
    pub align: Align,
}

pub const fn col(title: &'static str, width: f32, align: Align) -> Column {
    Column {
        title,
        width,
        align,
    }
}

/// The largest image (in pixels per side) printed: a signature pad gives far less.
const IMAGE_MAX_SIDE: u32 = 4000;

/// A PNG or JPEG whose declared size is sane; anything else is not decoded.
fn image_size_ok(b: &[u8]) -> bool {
    let ok = |w: u32, h: u32| w > 0 && h > 0 && w <= IMAGE_MAX_SIDE && h <= IMAGE_MAX_SIDE;
    if b.len() >= 24 && b.starts_with(b"\x89PNG\r\n\x1a\n") {
        let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
        let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
        return ok(w, h);
    }
    if b.starts_with(&[0xFF, 0xD8]) {
        // walk the JPEG segments to the frame header (SOF0–SOF15 but DHT, JPG, DAC)
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xFF {
                return false;
            }
            let marker = b[i + 1];
            let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
            if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
                let h = u32::from(u16::from_be_bytes([b[i + 5], b[i + 6]]));
                let w = u32::from(u16::from_be_bytes([b[i + 7], b[i + 8]]));
                return ok(w, h);
            }
            i += 2 + len;
        }
    }
    false
}

/// A document being laid out.
pub struct Canvas<'f> {
    fonts: &'f FontSet,
    doc: PdfDocument,
    font_ids: Vec<Option<FontId>>,
    pages: Vec<Vec<Op>>,
    /// the cursor, mm from the top of the current page
    pub y: f32,
    /// characters no font has (drawn as □)
    pub missing: Vec<char>,
}

/// A finished PDF.
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub pages: usize,
    /// characters no configured font has, drawn as □ — reported, never silently dropped
    pub missing: Vec<char>,
}

impl<'f> Canvas<'f> {
    pub fn new(fonts: &'f FontSet, title: &str) -> Self {
        Canvas {
            fonts,
            doc: PdfDocument::new(title),
            font_ids: vec![None; fonts.faces.len()],
            pages: vec![Vec::new()],
            y: MARGIN,
            missing: Vec::new(),
        }
    }

    pub fn fonts(&self) -> &FontSet {
        self.fonts
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    fn font_id(&mut self, face: usize) -> FontId {
        if let Some(id) = &self.font_ids[face] {
            return id.clone();
        }
        let id = self.doc.add_font(&self.fonts.faces[face].parsed);
        self.font_ids[face] = Some(id.clone());
        id
    }

    /// Starts a new page; the cursor goes to its top.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Makes room for `h` mm below the cursor, starting a new page when the body is full.
    /// Answers whether a new page was started.
    pub fn ensure(&mut self, h: f32) -> bool {
        if self.y + h > BODY_BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    /// Draws one line of text with its baseline at `baseline` (mm from the top).
    pub fn text_at(&mut self, x: f32, baseline: f32, size: f32, text: &str) {
        let runs = self.fonts.runs(text, &mut self.missing);
        if runs.is_empty() {
            return;
        }
        let mut x_pt = pt(x).0;
        let y_pt = pt(PAGE_H - baseline);
        let mut ops = vec![Op::StartTextSection];
        for (face, run) in runs {
            let font = self.font_id(face);
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(font),
                size: Pt(size),
            });
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(x_pt), y_pt),
            });
            x_pt += self.fonts.width(&run, size);
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(run)],
            });
        }
        ops.push(Op::EndTextSection);
        self.ops().extend(ops);
    }

    /// Text aligned in the box from `x` to `x + w`.
    pub fn text_in(&mut self, x: f32, w: f32, baseline: f32, size: f32, text: &str, a: Align) {
        let tw = self.fonts.width(text, size) / PT_PER_MM;
        let x = match a {
            Align::Left => x,
            Align::Right => x + w - tw,
            Align::Center => x + (w - tw) / 2.0,
        };
        self.text_at(x, baseline, size, text);
    }

    /// Lines wrapped to `w` mm.
    pub fn wrap(&self, text: &str, size: f32, w: f32) -> Vec<String> {
        self.fonts.wrap(text, size, w * PT_PER_MM)
    }

    /// A title centred on the page, advancing the cursor.
    pub fn title(&mut self, text: &str, size: f32) {
        let h = size / PT_PER_MM * 1.4;
        self.ensure(h);
        self.text_in(
            MARGIN,
            CONTENT_W,
            self.y + size / PT_PER_MM,
            size,
            text,
            Align::Center,
        );
        self.y += h;
    }

    /// A section heading with a rule under it.
    pub fn heading(&mut self, text: &str) {
        let size = 11.0;
        self.ensure(12.0);
        self.y += 2.0;
        self.text_at(MARGIN, self.y + 4.2, size, text);
        self.y += 5.6;
        self.hline(MARGIN, MARGIN + CONTENT_W, self.y, 0.4, 0.3);
        self.y += 1.6;
    }

    /// A paragraph wrapped to the content width.
    pub fn paragraph(&mut self, text: &str, size: f32) {
        let lh = size / PT_PER_MM * 1.45;
        for line in self.wrap(text, size, CONTENT_W) {
            self.ensure(lh);
            self.text_at(MARGIN, self.y + lh * 0.75, size, &line);
            self.y += lh;
        }
    }

    /// Label–value pairs in `per_row` columns; long values wrap within their cell.
    pub fn fields(&mut self, pairs: &[(&str, String)], per_row: usize) {
        let size = 9.0;
        let lh = size / PT_PER_MM * 1.45;
        let cell_w = CONTENT_W / per_row as f32;
        let label_w = 21.0;
        for row in pairs.chunks(per_row) {
            let wrapped: Vec<Vec<String>> = row
                .iter()
                .map(|(_, v)| self.wrap(v, size, cell_w - label_w - 2.0))
                .collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lines as f32 * lh + 1.0;
            if h > BODY_BOTTOM - MARGIN - 10.0 {
                // longer than a page: each value on its own, line by line across pages
                for (label, value) in row {
                    self.long_field(label, value, size, lh, label_w);
                }
                continue;
            }
            self.ensure(h);
            for (i, ((label, _), value)) in row.iter().zip(&wrapped).enumerate() {
                let x = MARGIN + i as f32 * cell_w;
                self.set_fill(grey(0.35));
                self.text_at(x, self.y + lh * 0.75, size, &format!("{label}："));
                self.set_fill(grey(0.0));
                for (n, l) in value.iter().enumerate() {
                    self.text_at(x + label_w, self.y + lh * (0.75 + n as f32), size, l);
                }
            }
            self.y += h;
        }
    }

    /// A value too long for one page, over the full width, continuing on the next pages.
    fn long_field(&mut self, label: &str, value: &str, size: f32, lh: f32, label_w: f32) {
        let lines = self.wrap(value, size, CONTENT_W - label_w - 2.0);
        self.ensure(lh);
        self.set_fill(grey(0.35));
        self.text_at(MARGIN, self.y + lh * 0.75, size, &format!("{label}："));
        self.set_fill(grey(0.0));
        for l in &lines {
            self.ensure(lh);
            self.text_at(MARGIN + label_w, self.y + lh * 0.75, size, l);
            self.y += lh;
        }
        self.y += 1.0;
    }

    fn set_fill(&mut self, c: Color) {
        self.ops().push(Op::SetFillColor { col: c });
    }

    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, width_pt: f32, shade: f32) {
        let line = Line {
            points: vec![
                LinePoint {
                    p: Point::new(Mm(x1), Mm(PAGE_H - y)),
                    bezier: false,
                },
                LinePoint {
                    p: Point::new(Mm(x2), Mm(PAGE_H - y)),
                    bezier: false,
                },
            ],
            is_closed: false,
        };
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: grey(shade) });
        ops.push(Op::SetOutlineThickness { pt: Pt(width_pt) });
        ops.push(Op::DrawLine { line });
    }

    pub fn vline(&mut self, x: f32, y1: f32, y2: f32) {
        let line = Line {
            points: vec![
                LinePoint {
                    p: Point::new(Mm(x), Mm(PAGE_H - y1)),
                    bezier: false,
                },
                LinePoint {
                    p: Point::new(Mm(x), Mm(PAGE_H - y2)),
                    bezier: false,
                },
            ],
            is_closed: false,
        };
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: grey(0.45) });
        ops.push(Op::SetOutlineThickness { pt: Pt(0.4) });
        ops.push(Op::DrawLine { line });
    }

    /// A filled rectangle (x, y: its top-left corner).
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, shade: f32) {
        self.set_fill(grey(shade));
        self.ops().push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(x),
                y: pt(PAGE_H - y - h),
                width: pt(w),
                height: pt(h),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
        self.set_fill(grey(0.0));
    }

    /// A table whose rows break across pages; the header row is repeated on every page
    /// the table continues on. Cells wrap; a row is never split.
    pub fn table(&mut self, cols: &[Column], rows: &[Vec<String>]) {
        let size = 8.5;
        let lh = size / PT_PER_MM * 1.35;
        let pad = 1.2;
        let header_h = lh + 2.0 * pad;
        let mut first = true;
        for row in rows {
            let cells: Vec<Vec<String>> = cols
                .iter()
                .zip(row)
                .map(|(c, v)| self.wrap(v, size, c.width - 2.0 * pad))
                .collect();
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lines as f32 * lh + 2.0 * pad;
            // the header never stands alone at the foot of a page
            if first {
                self.ensure(header_h + h);
                self.table_header(cols, size, lh, pad);
                first = false;
            } else if self.ensure(h) {
                self.table_header(cols, size, lh, pad);
            }
            let top = self.y;
            let mut x = MARGIN;
            for (c, lines) in cols.iter().zip(&cells) {
                for (n, l) in lines.iter().enumerate() {
                    let base = top + pad + lh * (0.78 + n as f32);
                    self.text_in(x + pad, c.width - 2.0 * pad, base, size, l, c.align);
                }
                x += c.width;
            }
            self.y += h;
            self.grid_row(cols, top, self.y);
        }
        if first {
            self.ensure(header_h);
            self.table_header(cols, size, lh, pad);
        }
    }

    fn table_header(&mut self, cols: &[Column], size: f32, lh: f32, pad: f32) {
        let top = self.y;
        let h = lh + 2.0 * pad;
        let total: f32 = cols.iter().map(|c| c.width).sum();
        self.fill_rect(MARGIN, top, total, h, 0.9);
        let mut x = MARGIN;
        for c in cols {
            self.text_in(
                x + pad,
                c.width - 2.0 * pad,
                top + pad + lh * 0.78,
                size,
                c.title,
                Align::Center,
            );
            x += c.width;
        }
        self.hline(MARGIN, MARGIN + total, top, 0.4, 0.45);
        self.y += h;
        self.grid_row(cols, top, self.y);
    }

    fn grid_row(&mut self, cols: &[Column], top: f32, bottom: f32) {
        let total: f32 = cols.iter().map(|c| c.width).sum();
        self.hline(MARGIN, MARGIN + total, bottom, 0.4, 0.45);
        let mut x = MARGIN;
        self.vline(x, top, bottom);
        for c in cols {
            x += c.width;
            self.vline(x, top, bottom);
        }
    }

    /// A QR code of `data`, `size` mm square, top-left at (x, y), drawn as vector squares
    /// (one rectangle per run of dark modules in a row).
    pub fn qr(&mut self, x: f32, y: f32, size: f32, data: &str) {
        let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
            return;
        };
        let n = code.width();
        let colors = code.to_colors();
        let quiet = 1.0;
        let m = size / (n as f32 + 2.0 * quiet);
        self.set_fill(grey(0.0));
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] == qrcode::Color::Dark {
                    let start = col;
                    while col < n && colors[row * n + col] == qrcode::Color::Dark {
                        col += 1;
                    }
                    let rx = x + (quiet + start as f32) * m;
                    let ry = y + (quiet + row as f32) * m;
                    let w = (col - start) as f32 * m;
                    self.ops().push(Op::DrawRectangle {
                        rectangle: Rect {
                            x: pt(rx),
                            y: pt(PAGE_H - ry - m),
                            width: pt(w),
                            height: pt(m),
                            mode: Some(PaintMode::Fill),
                            winding_order: None,
                        },
                    });
                } else {
                    col += 1;
                }
            }
        }
    }

    /// An image (PNG/JPEG bytes) fitted into the box at (x, y, w, h), keeping its aspect.
    /// Answers false when the bytes are not an image printpdf can read.
    pub fn image(&mut self, x: f32, y: f32, w: f32, h: f32, bytes: &[u8]) -> bool {
        // a small file can claim a huge canvas: look at the header before decoding
        if !image_size_ok(bytes) {
            return false;
        }
        let mut warnings = Vec::new();
        let Ok(img) = RawImage::decode_from_bytes(bytes, &mut warnings) else {
            return false;
        };
        let (pw, ph) = (img.width as f32, img.height as f32);
        if pw < 1.0 || ph < 1.0 {
            return false;
        }
        let dpi = 300.0;
        let native_w = pw / dpi * 25.4;
        let native_h = ph / dpi * 25.4;
        let scale = (w / native_w).min(h / native_h);
        let id = self.doc.add_image(&img);
        self.ops().push(Op::UseXobject {
            id,
            transform: XObjectTransform {
                translate_x: Some(pt(x)),
                translate_y: Some(pt(PAGE_H - y - native_h * scale)),
                scale_x: Some(scale),
                scale_y: Some(scale),
                dpi: Some(dpi),
                ..Default::default()
            },
        });
        true
    }

    /// Finishes the document: a footer on every page (`left` text, 第 n 页 / 共 m 页),
    /// fonts subset, compressed.
    pub fn finish(mut self, footer_left: &str) -> Rendered {
        let total = self.pages.len();
        let mut pages = std::mem::take(&mut self.pages);
        for (i, ops) in pages.iter_mut().enumerate() {
            self.pages = vec![std::mem::take(ops)];
            let y = PAGE_H - 10.0;
            self.hline(MARGIN, PAGE_W - MARGIN, y - 4.0, 0.3, 0.6);
            self.set_fill(grey(0.35));
            self.text_at(MARGIN, y, 7.5, footer_left);
            let n = format!("第 {} 页 / 共 {} 页", i + 1, total);
            self.text_in(MARGIN, CONTENT_W, y, 7.5, &n, Align::Right);
            self.set_fill(grey(0.0));
            *ops = self.pages.pop().unwrap_or_default();
        }
        let pdf_pages = pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops))
            .collect();
        let mut warnings = Vec::new();
        let bytes = self
            .doc
            .with_pages(pdf_pages)
            .save(&PdfSaveOptions::default(), &mut warnings);
        Rendered {
            bytes,
            pages: total,
            missing: self.missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> std::sync::Arc<FontSet> {
        FontSet::load(None).expect("a CJK font is installed (scripts/test installs one)")
    }

    fn text_of(r: &Rendered) -> String {
        let doc = lopdf::Document::load_mem(&r.bytes).unwrap();
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        doc.extract_text(&pages)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    #[test]
    fn a_value_longer_than_a_page_continues_on_the_next() {
        let f = fonts();
        let mut cv = Canvas::new(&f, "t");
        let long: String = (0..4000)
            .map(|i| if i % 50 == 49 { '。' } else { '字' })
            .collect();
        cv.fields(&[("备注", format!("开头{long}结尾"))], 1);
        let r = cv.finish("footer");
        assert!(r.pages >= 2, "{} pages", r.pages);
        let t = text_of(&r);
        assert!(t.contains("开头") && t.contains("结尾"));
        assert_eq!(t.matches('字').count(), 4000 - 80);
    }

    #[test]
    fn wrapped_lines_fit_and_lose_nothing_but_break_spaces() {
        let f = fonts();
        let text = "武汉市洪山区珞喻路1037号 地下车库B2层 IMEI 861452050000017 张喆王堃李犇";
        for max in [40.0_f32, 80.0, 150.0] {
            let lines = f.wrap(text, 9.0, max);
            for l in &lines {
                assert!(
                    f.width(l, 9.0) <= max + 0.01 || l.chars().count() == 1,
                    "{l:?} wider than {max}"
                );
            }
            let joined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let expected: String = text.chars().filter(|c| *c != ' ').collect();
            assert_eq!(joined, expected);
        }
        // an IMEI is not split while it fits on a line of its own
        let lines = f.wrap("终端 861452050000017", 9.0, 90.0);
        assert!(
            lines.iter().any(|l| l.contains("861452050000017")),
            "{lines:?}"
        );
    }

    /// The QR code as drawn (its rectangles painted into a bitmap) decodes to the number.
    #[test]
    fn the_qr_code_as_drawn_reads_back() {
        let f = fonts();
        let mut cv = Canvas::new(&f, "t");
        let (x0, y0, size) = (20.0_f32, 30.0_f32, 30.0_f32);
        cv.qr(x0, y0, size, "AZ-ZZ-2026-000123");
        let px_per_mm = 8.0_f32;
        let side = ((size + 10.0) * px_per_mm) as usize;
        let mut dark = vec![false; side * side];
        for op in &cv.pages[0] {
            if let Op::DrawRectangle { rectangle: r } = op {
                // back to mm from the top-left, then to pixels relative to the code
                let x = r.x.0 / PT_PER_MM - x0 + 5.0;
                let y = PAGE_H - (r.y.0 + r.height.0) / PT_PER_MM - y0 + 5.0;
                let (w, h) = (r.width.0 / PT_PER_MM, r.height.0 / PT_PER_MM);
                let (px0, py0) = (
                    (x * px_per_mm).round() as usize,
                    (y * px_per_mm).round() as usize,
                );
                let (px1, py1) = (
                    ((x + w) * px_per_mm).round() as usize,
                    ((y + h) * px_per_mm).round() as usize,
                );
                for py in py0..py1.min(side) {
                    for px in px0..px1.min(side) {
                        dark[py * side + px] = true;
                    }
                }
            }
        }
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            if dark[y * side + x] { 0 } else { 255 }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code found");
        let (_, content) = grids[0].decode().expect("it decodes");
        assert_eq!(content, "AZ-ZZ-2026-000123");
    }

    #[test]
    fn images_with_absurd_sizes_are_not_decoded() {
        let png = |w: u32, h: u32| {
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            b.extend(w.to_be_bytes());
            b.extend(h.to_be_bytes());
            b
        };
        assert!(image_size_ok(&png(300, 100)));
        assert!(!image_size_ok(&png(100_000, 100_000)));
        assert!(!image_size_ok(&png(0, 10)));
        assert!(!image_size_ok(b"<svg></svg>"));
        // a JPEG: SOI, an APP0 segment, then SOF0 with height 80 and width 200
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
        j.extend([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x50, 0x00, 0xC8, 0x03]);
        assert!(image_size_ok(&j));
    }

    #[test]
    fn the_yen_sign_comes_from_the_fallback_font_not_as_a_box() {
        let f = fonts();
        let mut missing = Vec::new();
        let runs = f.runs("¥128.00 壹佰", &mut missing);
        assert!(missing.is_empty(), "{missing:?}");
        assert!(!runs.is_empty());
        let mut cv = Canvas::new(&f, "t");
        cv.paragraph("金额 ¥128.00 𓀀", 9.0);
        assert_eq!(cv.missing, vec!['𓀀']);
    }
}
