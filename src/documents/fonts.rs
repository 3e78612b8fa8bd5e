//! The fonts documents are set in: a chain of faces, the first that has a character
//! draws it. Found from configuration or the usual Debian/Ubuntu locations; loaded once
//! per process.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use printpdf::ParsedFont;

/// Where the fonts are looked for when none is configured, in order. The CJK face comes
/// first; DejaVu Sans fills in what CJK fonts often lack (¥, some Latin punctuation).
pub const DEFAULT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc#0",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc#2",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf#0",
];

pub struct Face {
    /// the file and face index it came from
    pub source: String,
    pub parsed: ParsedFont,
    units_per_em: f32,
}

/// A font chain: the first face that has a character draws it.
pub struct FontSet {
    pub faces: Vec<Face>,
}

impl FontSet {
    /// The configured fonts (`path[#face]` separated by `:` or `,`), or the usual system
    /// locations. Errs when no CJK-capable face can be loaded.
    pub fn load(configured: Option<&str>) -> Result<Arc<FontSet>, String> {
        let specs: Vec<String> = match configured.map(str::trim).filter(|s| !s.is_empty()) {
            Some(list) => list
                .split([':', ','])
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_string())
                .collect(),
            None => DEFAULT_CANDIDATES.iter().map(|s| s.to_string()).collect(),
        };
        let strict = configured.is_some_and(|s| !s.trim().is_empty());
        let mut faces = Vec::new();
        for spec in &specs {
            let (path, index) = split_spec(spec);
            if !strict && !path.exists() {
                continue;
            }
            let face = load_face(&path, index).map_err(|e| format!("font {spec}: {e}"))?;
            faces.push(face);
        }
        let set = FontSet { faces };
        if set.faces.is_empty() {
            return Err(format!(
                "no font found (looked for {}); install fonts-wqy-microhei or set DISPATCH_PDF_FONTS",
                specs.join(", ")
            ));
        }
        if set.face_for('中').is_none() {
            return Err("none of the fonts has Chinese characters; install fonts-wqy-microhei or set DISPATCH_PDF_FONTS".into());
        }
        Ok(Arc::new(set))
    }

    /// The first face that has `c`.
    pub fn face_for(&self, c: char) -> Option<usize> {
        self.faces.iter().position(|f| {
            f.parsed
                .lookup_glyph_index(c as u32)
                .is_some_and(|g| g != 0)
        })
    }

    /// Splits `text` into runs by face. Characters no face has are reported through
    /// `missing` and drawn as `□` (or `?`) instead of vanishing.
    pub fn runs(&self, text: &str, missing: &mut Vec<char>) -> Vec<(usize, String)> {
        let mut out: Vec<(usize, String)> = Vec::new();
        for c in text.chars() {
            let (face, c) = match self.face_for(c) {
                Some(f) => (f, c),
                None if c.is_control() => continue,
                None => {
                    if !missing.contains(&c) {
                        missing.push(c);
                    }
                    let stand_in = if self.face_for('□').is_some() {
                        '□'
                    } else {
                        '?'
                    };
                    (self.face_for(stand_in).unwrap_or(0), stand_in)
                }
            };
            match out.last_mut() {
                Some((f, s)) if *f == face => s.push(c),
                _ => out.push((face, c.to_string())),
            }
        }
        out
    }

    /// The advance width of `c` in points at `size` (a missing character: half an em).
    pub fn char_width(&self, c: char, size: f32) -> f32 {
        let face = self.face_for(c).or_else(|| self.face_for('□'));
        match face {
            Some(i) => {
                let f = &self.faces[i];
                let gid = f.parsed.lookup_glyph_index(c as u32).unwrap_or(0);
                f.parsed.get_horizontal_advance(gid) as f32 / f.units_per_em * size
            }
            None => size / 2.0,
        }
    }

    /// The width of `text` in points at `size`.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.char_width(c, size)).sum()
    }

    /// Breaks `text` into lines no wider than `max` points: at spaces where a line has
    /// them, anywhere between CJK characters, inside a long word only when it cannot fit
    /// on a line of its own. Explicit newlines are kept.
    pub fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut w = 0.0;
            // the position in `line` after its last break opportunity
            let mut last_break: Option<usize> = None;
            for c in para.chars() {
                let cw = self.char_width(c, size);
                if w + cw > max && !line.is_empty() {
                    match last_break.filter(|&b| b > 0 && b < line.len()) {
                        Some(b) => {
                            let rest = line.split_off(b);
                            lines.push(line.trim_end().to_string());
                            line = rest.trim_start().to_string();
                        }
                        None => lines.push(std::mem::take(&mut line)),
                    }
                    w = self.width(&line, size);
                    last_break = None;
                    if w + cw > max && !line.is_empty() {
                        // what followed the break is a line of its own already
                        lines.push(std::mem::take(&mut line));
                        w = 0.0;
                    }
                }
                if c == ' ' && line.is_empty() {
                    continue;
                }
                line.push(c);
                w += cw;
                if c == ' ' || !c.is_ascii() {
                    last_break = Some(line.len());
                }
            }
            lines.push(line);
        }
        lines
    }
}

fn split_spec(spec: &str) -> (PathBuf, usize) {
    match spec.rsplit_once('#') {
        Some((p, i)) if i.chars().all(|c| c.is_ascii_digit()) && !i.is_empty() => {
            (PathBuf::from(p), i.parse().unwrap_or(0))
        }
        _ => (PathBuf::from(spec), 0),
    }
}

fn load_face(path: &Path, index: usize) -> Result<Face, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    let parsed = ParsedFont::from_bytes(&bytes, index, &mut warnings)
        .ok_or_else(|| format!("cannot parse face {index}"))?;
    let units_per_em = match parsed.font_metrics.units_per_em {
        0 => 1000.0,
        u => f32::from(u),
    };
    Ok(Face {
        source: format!("{}#{index}", path.display()),
        parsed,
        units_per_em,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_take_an_optional_face_index() {
        assert_eq!(split_spec("/a/b.ttc#2"), (PathBuf::from("/a/b.ttc"), 2));
        assert_eq!(split_spec("/a/b.ttf"), (PathBuf::from("/a/b.ttf"), 0));
        assert_eq!(split_spec("/a/#b.ttf"), (PathBuf::from("/a/#b.ttf"), 0));
    }

    #[test]
    fn a_configured_font_that_is_missing_is_an_error() {
        assert!(FontSet::load(Some("/nonexistent/font.ttf")).is_err());
    }
}
