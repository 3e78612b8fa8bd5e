//! Site photos: checked by their content, refused before decoding when they would take too
//! much memory, stripped losslessly of every metadata segment but a minimal EXIF holding when
//! and where they were taken, and given a small JPEG thumbnail.

use std::io::Cursor;

use chrono::{Duration, NaiveDateTime};
use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::Png;
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};
use sha2::{Digest, Sha256};

/// Long side of the thumbnail, in pixels.
const THUMB_SIDE: u32 = 320;
/// JPEG quality of the thumbnail.
const THUMB_QUALITY: u8 = 80;

/// What an upload may weigh and measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Largest width × height accepted, read from the header before decoding.
    pub max_pixels: u64,
    /// Largest width or height accepted, in pixels.
    pub max_side: u32,
}

impl Default for Limits {
    /// 10 MiB, 40 megapixels, 12 000 px per side.
    fn default() -> Self {
        Limits {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 12_000,
        }
    }
}

/// The image formats accepted, recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// WebP (`RIFF....WEBP`).
    Webp,
}

impl Format {
    /// The media type of the format.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }

    /// The file name extension of the format, without the dot.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    /// Recognises the format from the first bytes of the file, whatever its declared type.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.len() >= 16 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else {
            None
        }
    }

    fn image_format(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Webp => image::ImageFormat::WebP,
        }
    }
}

/// When and where the photo was taken (UTC time; WGS-84 latitude, longitude).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stamp {
    /// The time the photo was taken, in UTC.
    pub taken_at: Option<NaiveDateTime>,
    /// Latitude and longitude in degrees, WGS-84.
    pub position: Option<(f64, f64)>,
}

impl Stamp {
    fn is_empty(&self) -> bool {
        self.taken_at.is_none() && self.position.is_none()
    }
}

/// A photo accepted and made ready to store.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The format of the file, from its content.
    pub format: Format,
    /// the file as stored: the original encoding, every metadata segment removed, then a minimal EXIF holding only the stamp's time (DateTimeOriginal, plus OffsetTimeOriginal "+00:00") and GPS latitude/longitude (when known)
    pub bytes: Vec<u8>,
    /// JPEG, long side 320 px (never upscaled), quality 80
    pub thumb: Vec<u8>,
    /// Width of the encoded image, in pixels.
    pub width: u32,
    /// Height of the encoded image, in pixels.
    pub height: u32,
    /// lower-case hex SHA-256 of `bytes`
    pub sha256: String,
    /// the stamp written: each field from the file's own EXIF when it had one (DateTimeOriginal with OffsetTimeOriginal if present, else read as Beijing time UTC+8 and converted to UTC; GPS lat/lng with refs), else from `given`
    pub stamp: Stamp,
}

/// Why an upload is not accepted as a photo.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The file is empty.
    #[error("the photo file is empty")]
    Empty,
    /// The file weighs more than `max` bytes.
    #[error("the photo is larger than {max} bytes")]
    TooLarge {
        /// The largest size accepted, in bytes.
        max: usize,
    },
    /// The content is not a JPEG, PNG or WebP image.
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    /// The header announces too many pixels, or a side too long.
    #[error("the photo is too large in pixels: {width}×{height}")]
    TooManyPixels {
        /// Width announced by the header.
        width: u32,
        /// Height announced by the header.
        height: u32,
    },
    /// The file cannot be parsed or decoded.
    #[error("the photo file is corrupt")]
    Corrupt,
}

impl Refusal {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Empty => "photo_empty",
            Refusal::TooLarge { .. } => "photo_too_large",
            Refusal::NotAnImage => "photo_type",
            Refusal::TooManyPixels { .. } => "photo_pixels",
            Refusal::Corrupt => "photo_corrupt",
        }
    }

    /// One Chinese sentence a technician reads, saying what to do next.
    pub fn message_zh(&self) -> String {
        match self {
            Refusal::Empty => "照片是空文件，请重新拍摄或重新选择照片后上传。".to_owned(),
            Refusal::TooLarge { max } => {
                format!("照片超过 {}，请压缩后重新上传。", human_size(*max))
            }
            Refusal::NotAnImage => {
                "文件不是照片（只支持 JPG、PNG、WebP），请选择照片后重新上传。".to_owned()
            }
            Refusal::TooManyPixels { width, height } => {
                format!("照片尺寸过大（{width}×{height}），请缩小后重新上传。")
            }
            Refusal::Corrupt => "照片文件已损坏，无法读取，请重新拍摄后上传。".to_owned(),
        }
    }
}

fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB {
        if bytes.is_multiple_of(MIB) {
            format!("{} MB", bytes / MIB)
        } else {
            format!("{:.1} MB", bytes as f64 / MIB as f64)
        }
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// Checks an upload, strips its metadata but its time and position, and makes its thumbnail.
///
/// The time and position written are the file's own (from its EXIF) when it has them, else
/// those `given`. The full image is never re-encoded.
pub fn process(bytes: &[u8], given: Stamp, limits: &Limits) -> Result<Processed, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(Refusal::TooLarge {
            max: limits.max_bytes,
        });
    }
    let format = Format::sniff(bytes).ok_or(Refusal::NotAnImage)?;
    let input = Bytes::copy_from_slice(bytes);

    let mut container = Container::parse(format, input.clone())?;
    let (width, height) = container.dimensions().ok_or(Refusal::Corrupt)?;
    if width == 0 || height == 0 {
        return Err(Refusal::Corrupt);
    }
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(Refusal::TooManyPixels { width, height });
    }

    let own = container
        .exif()
        .map(|e| stamp_from_tiff(&e))
        .unwrap_or_default();
    let given = Stamp {
        taken_at: given.taken_at.filter(|t| writable_time(*t)),
        position: given.position.filter(|&(lat, lng)| sane_position(lat, lng)),
    };
    let stamp = Stamp {
        taken_at: own.taken_at.or(given.taken_at),
        position: own.position.or(given.position),
    };

    container.strip(&input)?;
    container.set_exif((!stamp.is_empty()).then(|| Bytes::from(build_exif(&stamp))));
    let out = container.into_bytes();

    let thumb = thumbnail(&out, format, limits)?;
    let sha256 = hex::encode(Sha256::digest(&out));
    Ok(Processed {
        format,
        bytes: out,
        thumb,
        width,
        height,
        sha256,
        stamp,
    })
}

/// reads the stamp of a stored file (its EXIF), for tests and for the PDF
pub fn read_stamp(bytes: &[u8]) -> Stamp {
    let Some(format) = Format::sniff(bytes) else {
        return Stamp::default();
    };
    Container::parse(format, Bytes::copy_from_slice(bytes))
        .ok()
        .and_then(|c| c.exif())
        .map(|e| stamp_from_tiff(&e))
        .unwrap_or_default()
}

/// A parsed file, its segments or chunks addressable.
enum Container {
    Jpeg(Jpeg),
    Png(Png),
    Webp(WebP),
}

impl Container {
    fn parse(format: Format, input: Bytes) -> Result<Container, Refusal> {
        Ok(match format {
            Format::Jpeg => Container::Jpeg(Jpeg::from_bytes(input).map_err(|_| Refusal::Corrupt)?),
            Format::Png => Container::Png(Png::from_bytes(input).map_err(|_| Refusal::Corrupt)?),
            Format::Webp => Container::Webp(WebP::from_bytes(input).map_err(|_| Refusal::Corrupt)?),
        })
    }

    fn dimensions(&self) -> Option<(u32, u32)> {
        match self {
            Container::Jpeg(j) => j.dimensions().map(|(w, h)| (u32::from(w), u32::from(h))),
            Container::Png(p) => p.dimensions(),
            Container::Webp(w) => w.dimensions(),
        }
    }

    fn exif(&self) -> Option<Bytes> {
        match self {
            Container::Jpeg(j) => j.exif(),
            Container::Png(p) => p.exif(),
            Container::Webp(w) => w.exif(),
        }
    }

    fn set_exif(&mut self, exif: Option<Bytes>) {
        match self {
            Container::Jpeg(j) => j.set_exif(exif),
            Container::Png(p) => p.set_exif(exif),
            Container::Webp(w) => w.set_exif(exif),
        }
    }

    /// Removes every metadata segment or chunk, keeping those that affect how colours decode.
    fn strip(&mut self, input: &Bytes) -> Result<(), Refusal> {
        match self {
            Container::Jpeg(j) => strip_jpeg(j, input),
            Container::Png(p) => {
                for kind in [*b"eXIf", *b"tEXt", *b"iTXt", *b"zTXt", *b"tIME"] {
                    p.remove_chunks_by_type(kind);
                }
                Ok(())
            }
            Container::Webp(w) => {
                w.remove_chunks_by_id(*b"EXIF");
                w.remove_chunks_by_id(*b"XMP ");
                Ok(())
            }
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Container::Jpeg(j) => j.encoder().bytes().to_vec(),
            Container::Png(p) => p.encoder().bytes().to_vec(),
            Container::Webp(w) => w.encoder().bytes().to_vec(),
        }
    }
}

/// Whether a JPEG marker segment carries metadata to drop.
fn is_jpeg_metadata(marker: u8, contents: &[u8]) -> bool {
    match marker {
        markers::APP0 => !contents.starts_with(b"JFIF\0"),
        markers::APP2 => !contents.starts_with(b"ICC_PROFILE\0"),
        markers::APP14 => !contents.starts_with(b"Adobe"),
        m if (markers::APP0..=markers::APP15).contains(&m) => true,
        markers::COM => true,
        _ => false,
    }
}

fn strip_jpeg(jpeg: &mut Jpeg, input: &Bytes) -> Result<(), Refusal> {
    let segments = jpeg.segments_mut();
    segments.retain(|s| !is_jpeg_metadata(s.marker(), s.contents()));
    for segment in segments.iter_mut() {
        if segment.marker() == markers::APP0 && segment.contents().len() > 14 {
            // a JFIF header without its embedded thumbnail
            let mut jfif = segment.contents()[..14].to_vec();
            jfif[12] = 0;
            jfif[13] = 0;
            *segment = JpegSegment::new_with_contents(markers::APP0, Bytes::from(jfif));
        } else if segment.has_entropy() {
            // the first scan's entropy holds the rest of the file: later scans, segments
            // between them, the end marker and whatever trails it (MPF images, maker data)
            let entropy_len = segment.len_with_entropy() - segment.len();
            let start = input
                .len()
                .checked_sub(entropy_len)
                .ok_or(Refusal::Corrupt)?;
            let tail = clean_jpeg_tail(&input[start..]);
            *segment = JpegSegment::new_with_entropy(
                segment.marker(),
                segment.contents().clone(),
                Bytes::from(tail),
            );
        }
    }
    Ok(())
}

/// Copies the JPEG data after the first scan header up to and including the end-of-image
/// marker, leaving out metadata segments between scans and anything after the end.
fn clean_jpeg_tail(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut copied = 0;
    let mut pos = 0;
    while let Some(found) = data[pos..].iter().position(|&b| b == 0xFF) {
        let start = pos + found;
        let mut m = start + 1;
        while data.get(m) == Some(&0xFF) {
            m += 1;
        }
        let Some(&marker) = data.get(m) else { break };
        match marker {
            0x00 | 0x01 | markers::RST0..=markers::RST7 => pos = m + 1,
            markers::EOI => {
                out.extend_from_slice(&data[copied..=m]);
                return out;
            }
            _ => {
                let Some(len) = data.get(m + 1..m + 3) else {
                    break;
                };
                let end = m + 1 + usize::from(u16::from_be_bytes([len[0], len[1]]));
                let Some(contents) = data.get(m + 3..end) else {
                    break;
                };
                if is_jpeg_metadata(marker, contents) {
                    out.extend_from_slice(&data[copied..start]);
                    copied = end;
                }
                pos = end;
            }
        }
    }
    // no end marker: keep what there is, the decoder judges it
    out.extend_from_slice(&data[copied..]);
    out
}

fn thumbnail(bytes: &[u8], format: Format, limits: &Limits) -> Result<Vec<u8>, Refusal> {
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).max(1 << 20));
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(decode_limits);
    let img = reader.decode().map_err(|_| Refusal::Corrupt)?;

    let img = if img.width().max(img.height()) > THUMB_SIDE {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        img
    };
    let rgb = if img.color().has_alpha() {
        // transparent areas over white rather than black
        let rgba = img.to_rgba8();
        let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
        for (o, p) in rgb.pixels_mut().zip(rgba.pixels()) {
            let a = u16::from(p[3]);
            for c in 0..3 {
                o[c] = ((u16::from(p[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
            }
        }
        rgb
    } else {
        img.to_rgb8()
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMB_QUALITY)
        .encode_image(&rgb)
        .map_err(|_| Refusal::Corrupt)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// EXIF reading

fn sane_position(lat: f64, lng: f64) -> bool {
    lat.is_finite()
        && lng.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lng)
        && !(lat == 0.0 && lng == 0.0)
}

fn writable_time(t: NaiveDateTime) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&t.year())
}

fn stamp_from_tiff(tiff: &[u8]) -> Stamp {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        return Stamp::default();
    };
    Stamp {
        taken_at: read_time(&exif).filter(|t| writable_time(*t)),
        position: read_position(&exif),
    }
}

fn ascii(exif: &exif::Exif, tag: exif::Tag) -> Option<String> {
    match &exif.get_field(tag, exif::In::PRIMARY)?.value {
        exif::Value::Ascii(v) => {
            let s = std::str::from_utf8(v.first()?).ok()?;
            Some(
                s.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .to_owned(),
            )
        }
        _ => None,
    }
}

fn read_time(exif: &exif::Exif) -> Option<NaiveDateTime> {
    let local = ascii(exif, exif::Tag::DateTimeOriginal)?;
    let local = NaiveDateTime::parse_from_str(local.get(..19)?, "%Y:%m:%d %H:%M:%S").ok()?;
    let offset_minutes = ascii(exif, exif::Tag::OffsetTimeOriginal)
        .and_then(|o| parse_offset(&o))
        .unwrap_or(8 * 60); // Beijing time when the camera says nothing
    local.checked_sub_signed(Duration::minutes(i64::from(offset_minutes)))
}

/// Parses "+HH:MM" / "-HH:MM" into minutes east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h: i32 = s.get(1..3)?.parse().ok()?;
    let m: i32 = s.get(4..6)?.parse().ok()?;
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

fn read_position(exif: &exif::Exif) -> Option<(f64, f64)> {
    let coord = |tag, ref_tag, negative: &str| -> Option<f64> {
        let value = match &exif.get_field(tag, exif::In::PRIMARY)?.value {
            exif::Value::Rational(v) if !v.is_empty() => {
                let part = |i: usize| {
                    v.get(i)
                        .filter(|r| r.denom != 0)
                        .map_or(0.0, |r| r.to_f64())
                };
                if v[0].denom == 0 {
                    return None;
                }
                part(0) + part(1) / 60.0 + part(2) / 3600.0
            }
            _ => return None,
        };
        let r = ascii(exif, ref_tag)?;
        Some(if r.eq_ignore_ascii_case(negative) {
            -value
        } else {
            value
        })
    };
    let lat = coord(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S")?;
    let lng = coord(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, "W")?;
    sane_position(lat, lng).then_some((lat, lng))
}

// ---------------------------------------------------------------------------------------------
// EXIF writing

const ASCII: u16 = 2;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const BYTE: u16 = 1;

/// One IFD entry: tag, type, count and its value bytes (little-endian).
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

impl Entry {
    fn ascii(tag: u16, s: &str) -> Entry {
        let mut value = s.as_bytes().to_vec();
        value.push(0);
        Entry {
            tag,
            kind: ASCII,
            count: value.len() as u32,
            value,
        }
    }

    fn long(tag: u16, v: u32) -> Entry {
        Entry {
            tag,
            kind: LONG,
            count: 1,
            value: v.to_le_bytes().to_vec(),
        }
    }
}

/// Size of an IFD once written, its out-of-line values included.
fn ifd_size(entries: &[Entry]) -> u32 {
    let data: usize = entries
        .iter()
        .filter(|e| e.value.len() > 4)
        .map(|e| e.value.len().next_multiple_of(2))
        .sum();
    (2 + 12 * entries.len() + 4 + data) as u32
}

/// Appends an IFD starting at `out.len()`, followed by its out-of-line values.
fn write_ifd(out: &mut Vec<u8>, entries: &[Entry]) {
    let start = out.len();
    let mut data_at = start + 2 + 12 * entries.len() + 4;
    let mut data = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for e in entries {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.kind.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        if e.value.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..e.value.len()].copy_from_slice(&e.value);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&(data_at as u32).to_le_bytes());
            data.extend_from_slice(&e.value);
            if e.value.len() % 2 == 1 {
                data.push(0);
            }
            data_at += e.value.len().next_multiple_of(2);
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&data);
}

/// Degrees as three rationals: degrees, minutes, seconds in thousandths.
fn dms(deg: f64) -> Vec<u8> {
    let total = (deg.abs() * 3_600_000.0).round() as u64;
    let parts = [
        (total / 3_600_000, 1u32),
        ((total / 60_000) % 60, 1),
        (total % 60_000, 1000),
    ];
    let mut v = Vec::with_capacity(24);
    for (num, den) in parts {
        v.extend_from_slice(&(num as u32).to_le_bytes());
        v.extend_from_slice(&den.to_le_bytes());
    }
    v
}

/// A little-endian TIFF holding only the stamp: the raw EXIF payload, without "Exif\0\0".
fn build_exif(stamp: &Stamp) -> Vec<u8> {
    let exif_ifd: Vec<Entry> = stamp
        .taken_at
        .map(|t| {
            vec![
                Entry::ascii(0x9003, &t.format("%Y:%m:%d %H:%M:%S").to_string()),
                Entry::ascii(0x9011, "+00:00"),
            ]
        })
        .unwrap_or_default();
    let gps_ifd: Vec<Entry> = stamp
        .position
        .map(|(lat, lng)| {
            vec![
                Entry {
                    tag: 0x0000,
                    kind: BYTE,
                    count: 4,
                    value: vec![2, 2, 0, 0],
                },
                Entry::ascii(0x0001, if lat < 0.0 { "S" } else { "N" }),
                Entry {
                    tag: 0x0002,
                    kind: RATIONAL,
                    count: 3,
                    value: dms(lat),
                },
                Entry::ascii(0x0003, if lng < 0.0 { "W" } else { "E" }),
                Entry {
                    tag: 0x0004,
                    kind: RATIONAL,
                    count: 3,
                    value: dms(lng),
                },
            ]
        })
        .unwrap_or_default();

    let ifd0_len = 2 + 12 * (usize::from(!exif_ifd.is_empty()) + usize::from(!gps_ifd.is_empty()));
    let exif_at = 8 + ifd0_len as u32 + 4;
    let gps_at = exif_at
        + if exif_ifd.is_empty() {
            0
        } else {
            ifd_size(&exif_ifd)
        };
    let mut ifd0 = Vec::new();
    if !exif_ifd.is_empty() {
        ifd0.push(Entry::long(0x8769, exif_at));
    }
    if !gps_ifd.is_empty() {
        ifd0.push(Entry::long(0x8825, gps_at));
    }

    let mut out = b"II*\0\x08\0\0\0".to_vec();
    write_ifd(&mut out, &ifd0);
    if !exif_ifd.is_empty() {
        debug_assert_eq!(out.len() as u32, exif_at);
        write_ifd(&mut out, &exif_ifd);
    }
    if !gps_ifd.is_empty() {
        debug_assert_eq!(out.len() as u32, gps_at);
        write_ifd(&mut out, &gps_ifd);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ExtendedColorType, ImageEncoder, RgbImage};

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// A photo-like picture: gradient plus noise, so it does not compress to nothing.
    fn picture(w: u32, h: u32) -> RgbImage {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        RgbImage::from_fn(w, h, |x, y| {
            let n = (xorshift(&mut seed) % 48) as u32;
            image::Rgb([
                (x * 255 / w.max(1) + n).min(255) as u8,
                (y * 255 / h.max(1) + n).min(255) as u8,
                ((x + y) % 256 / 2 + n).min(255) as u8,
            ])
        })
    }

    fn jpeg(w: u32, h: u32, quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&picture(w, h))
            .unwrap();
        out
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(picture(w, h).as_raw(), w, h, ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn webp(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut out)
            .write_image(picture(w, h).as_raw(), w, h, ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let crc = crc32(&c[4..]);
        c.extend_from_slice(&crc.to_be_bytes());
        c
    }

    fn jpeg_segment(marker: u8, contents: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&(contents.len() as u16 + 2).to_be_bytes());
        s.extend_from_slice(contents);
        s
    }

    fn rational3(v: [(u32, u32); 3]) -> Vec<u8> {
        v.iter()
            .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
            .collect()
    }

    /// A camera-like EXIF: Make, Model, a maker note, local time without offset, GPS.
    fn camera_tiff() -> Vec<u8> {
        let ifd0 = [
            Entry::ascii(0x010F, "HUAWEI"),
            Entry::ascii(0x0110, "ELS-AN00"),
            Entry::long(0x8769, 0),
            Entry::long(0x8825, 0),
        ];
        let exif_ifd = [
            Entry::ascii(0x9003, "2024:05:01 10:00:00"),
            Entry {
                tag: 0x927C,
                kind: 7,
                count: 16,
                value: b"HUAWEI\0\0secret!!".to_vec(),
            },
        ];
        let gps_ifd = [
            Entry::ascii(0x0001, "N"),
            Entry {
                tag: 0x0002,
                kind: RATIONAL,
                count: 3,
                value: rational3([(31, 1), (13, 1), (49440, 1000)]),
            },
            Entry::ascii(0x0003, "E"),
            Entry {
                tag: 0x0004,
                kind: RATIONAL,
                count: 3,
                value: rational3([(121, 1), (28, 1), (25320, 1000)]),
            },
        ];
        let exif_at = 8 + ifd_size(&ifd0);
        let gps_at = exif_at + ifd_size(&exif_ifd);
        let ifd0 = [
            Entry::ascii(0x010F, "HUAWEI"),
            Entry::ascii(0x0110, "ELS-AN00"),
            Entry::long(0x8769, exif_at),
            Entry::long(0x8825, gps_at),
        ];
        let mut out = b"II*\0\x08\0\0\0".to_vec();
        write_ifd(&mut out, &ifd0);
        write_ifd(&mut out, &exif_ifd);
        write_ifd(&mut out, &gps_ifd);
        out
    }

    /// A JPEG as a phone makes it: EXIF, XMP and a comment up front, an MPF-ish trailer.
    fn camera_jpeg(w: u32, h: u32) -> Vec<u8> {
        let plain = jpeg(w, h, 85);
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend_from_slice(&camera_tiff());
        let mut out = plain[..2].to_vec();
        out.extend(jpeg_segment(markers::APP1, &exif));
        out.extend(jpeg_segment(
            markers::APP1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Model</x:xmpmeta>",
        ));
        out.extend(jpeg_segment(markers::COM, b"shot by someone"));
        out.extend_from_slice(&plain[2..]);
        out.extend_from_slice(b"\xFF\xD8\xFF\xE1\x00\x10Exif\0\0HUAWEI..");
        out
    }

    fn shanghai() -> (f64, f64) {
        (
            31.0 + 13.0 / 60.0 + 49.44 / 3600.0,
            121.0 + 28.0 / 60.0 + 25.32 / 3600.0,
        )
    }

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
    }

    fn time(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn sniffs_and_refuses_by_content() {
        assert_eq!(Format::sniff(&jpeg(8, 8, 80)), Some(Format::Jpeg));
        assert_eq!(Format::sniff(&png(8, 8)), Some(Format::Png));
        assert_eq!(Format::sniff(&webp(8, 8)), Some(Format::Webp));
        assert_eq!(Format::Jpeg.ext(), "jpg");
        assert_eq!(Format::Webp.mime(), "image/webp");
        let l = Limits::default();
        for junk in [
            &b"just some text\n"[..],
            b"<!DOCTYPE html><html><body>hi</body></html>",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            b"\xFF\xD8",
            b"\x89PNG",
            b"RIFF\0\0\0\0WEB",
        ] {
            assert_eq!(
                process(junk, Stamp::default(), &l).unwrap_err(),
                Refusal::NotAnImage
            );
        }
        assert_eq!(
            process(b"", Stamp::default(), &l).unwrap_err(),
            Refusal::Empty
        );
        let small = Limits {
            max_bytes: 100,
            ..l
        };
        let err = process(&jpeg(64, 64, 90), Stamp::default(), &small).unwrap_err();
        assert_eq!(err, Refusal::TooLarge { max: 100 });
        assert_eq!(err.code(), "photo_too_large");
        let ten = Refusal::TooLarge { max: l.max_bytes };
        assert_eq!(ten.message_zh(), "照片超过 10 MB，请压缩后重新上传。");
    }

    #[test]
    fn jpeg_keeps_only_time_and_position() {
        let input = camera_jpeg(400, 300);
        let p = process(&input, Stamp::default(), &Limits::default()).unwrap();
        assert_eq!(p.format, Format::Jpeg);
        assert_eq!((p.width, p.height), (400, 300));
        // 10:00 Beijing time is 02:00 UTC
        assert_eq!(p.stamp.taken_at, Some(time("2024-05-01 02:00:00")));
        assert!(close(p.stamp.position.unwrap(), shanghai()));
        assert_eq!(read_stamp(&p.bytes), p.stamp);

        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(&p.bytes))
            .unwrap();
        use exif::Tag;
        let allowed = [
            Tag::ExifIFDPointer,
            Tag::GPSInfoIFDPointer,
            Tag::DateTimeOriginal,
            Tag::OffsetTimeOriginal,
            Tag::GPSVersionID,
            Tag::GPSLatitudeRef,
            Tag::GPSLatitude,
            Tag::GPSLongitudeRef,
            Tag::GPSLongitude,
        ];
        for f in exif.fields() {
            assert!(allowed.contains(&f.tag), "unexpected tag {}", f.tag);
        }
        assert!(exif.get_field(Tag::Make, exif::In::PRIMARY).is_none());
        assert!(exif.get_field(Tag::Model, exif::In::PRIMARY).is_none());
        let dto = exif
            .get_field(Tag::DateTimeOriginal, exif::In::PRIMARY)
            .unwrap();
        assert_eq!(dto.display_value().to_string(), "2024-05-01 02:00:00");

        for needle in [
            &b"HUAWEI"[..],
            b"ELS-AN00",
            b"xmpmeta",
            b"shot by",
            b"secret",
        ] {
            assert!(!p.bytes.windows(needle.len()).any(|w| w == needle));
        }
        assert!(p.bytes.ends_with(&[0xFF, 0xD9]));

        let decoded = image::load_from_memory(&p.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (400, 300));
        assert_eq!(p.sha256, hex::encode(Sha256::digest(&p.bytes)));
        assert_eq!(p.sha256.len(), 64);
        let thumb = image::load_from_memory(&p.thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
        assert_eq!(Format::sniff(&p.thumb), Some(Format::Jpeg));
    }

    #[test]
    fn small_image_thumb_not_upscaled_and_empty_stamp_writes_no_exif() {
        let p = process(&jpeg(100, 60, 80), Stamp::default(), &Limits::default()).unwrap();
        let thumb = image::load_from_memory(&p.thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (100, 60));
        assert_eq!(p.stamp, Stamp::default());
        assert!(
            exif::Reader::new()
                .read_from_container(&mut Cursor::new(&p.bytes))
                .is_err()
        );
    }

    #[test]
    fn given_stamp_used_when_file_has_none() {
        let given = Stamp {
            taken_at: Some(time("2025-01-02 03:04:05")),
            position: Some((-33.8688, 151.2093)),
        };
        let p = process(&jpeg(200, 100, 80), given, &Limits::default()).unwrap();
        assert_eq!(p.stamp.taken_at, given.taken_at);
        let got = read_stamp(&p.bytes);
        assert_eq!(got.taken_at, given.taken_at);
        assert!(close(got.position.unwrap(), given.position.unwrap()));

        // the file's own EXIF wins over what is given
        let p = process(&camera_jpeg(64, 48), given, &Limits::default()).unwrap();
        assert_eq!(p.stamp.taken_at, Some(time("2024-05-01 02:00:00")));
        assert!(close(p.stamp.position.unwrap(), shanghai()));

        // nonsense positions are not written
        let zero = Stamp {
            taken_at: None,
            position: Some((0.0, 0.0)),
        };
        let p = process(&jpeg(16, 16, 80), zero, &Limits::default()).unwrap();
        assert_eq!(p.stamp, Stamp::default());
    }

    #[test]
    fn offset_time_is_honoured_and_west_south_refs() {
        let stamp = Stamp {
            taken_at: Some(time("2024-12-31 23:59:59")),
            position: Some((-12.5, -77.25)),
        };
        assert_eq!(
            stamp_from_tiff(&build_exif(&stamp)).taken_at,
            stamp.taken_at
        );
        assert!(close(
            stamp_from_tiff(&build_exif(&stamp)).position.unwrap(),
            (-12.5, -77.25)
        ));
        assert_eq!(parse_offset("-05:30"), Some(-330));
        let only_time = Stamp {
            taken_at: stamp.taken_at,
            position: None,
        };
        assert_eq!(stamp_from_tiff(&build_exif(&only_time)), only_time);
        let only_pos = Stamp {
            taken_at: None,
            position: stamp.position,
        };
        assert!(close(
            stamp_from_tiff(&build_exif(&only_pos)).position.unwrap(),
            (-12.5, -77.25)
        ));
    }

    #[test]
    fn png_text_chunk_removed() {
        let plain = png(50, 40);
        let mut input = plain[..33].to_vec(); // signature + IHDR
        input.extend(png_chunk(b"tEXt", b"Comment\0SIM 8986 0112"));
        input.extend(png_chunk(b"tIME", &[7, 232, 5, 1, 10, 0, 0]));
        input.extend_from_slice(&plain[33..]);
        let given = Stamp {
            taken_at: Some(time("2025-03-04 05:06:07")),
            position: None,
        };
        let p = process(&input, given, &Limits::default()).unwrap();
        assert_eq!(p.format, Format::Png);
        assert!(!p.bytes.windows(4).any(|w| w == b"tEXt" || w == b"tIME"));
        assert!(!p.bytes.windows(8).any(|w| w == b"SIM 8986"));
        assert_eq!(read_stamp(&p.bytes), given);
        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(&p.bytes))
            .unwrap();
        assert!(
            exif.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
                .is_some()
        );
        let decoded = image::load_from_memory(&p.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (50, 40));
    }

    #[test]
    fn webp_works() {
        let given = Stamp {
            taken_at: Some(time("2025-03-04 05:06:07")),
            position: Some((39.9, 116.4)),
        };
        let p = process(&webp(640, 480), given, &Limits::default()).unwrap();
        assert_eq!(p.format, Format::Webp);
        assert_eq!((p.width, p.height), (640, 480));
        let got = read_stamp(&p.bytes);
        assert_eq!(got.taken_at, given.taken_at);
        assert!(close(got.position.unwrap(), (39.9, 116.4)));
        let decoded = image::load_from_memory(&p.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (640, 480));
        let thumb = image::load_from_memory(&p.thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
    }

    #[test]
    fn pixel_bombs_refused_from_header() {
        let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = 50_000u32.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&50_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        bomb.extend(png_chunk(b"IHDR", &ihdr));
        bomb.extend(png_chunk(
            b"IDAT",
            &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ));
        bomb.extend(png_chunk(b"IEND", b""));
        let err = process(&bomb, Stamp::default(), &Limits::default()).unwrap_err();
        assert_eq!(
            err,
            Refusal::TooManyPixels {
                width: 50_000,
                height: 50_000
            }
        );
        assert_eq!(err.code(), "photo_pixels");

        let mut big = jpeg(16, 16, 80);
        let sof = big.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        big[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
        big[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
        let err = process(&big, Stamp::default(), &Limits::default()).unwrap_err();
        assert_eq!(
            err,
            Refusal::TooManyPixels {
                width: 60_000,
                height: 60_000
            }
        );

        // one side too long though few pixels
        let mut long = jpeg(16, 16, 80);
        long[sof + 5..sof + 7].copy_from_slice(&1u16.to_be_bytes());
        long[sof + 7..sof + 9].copy_from_slice(&13_000u16.to_be_bytes());
        assert!(matches!(
            process(&long, Stamp::default(), &Limits::default()),
            Err(Refusal::TooManyPixels { .. })
        ));
    }

    #[test]
    fn corrupt_files_refused_without_panic() {
        let l = Limits::default();
        let valid = jpeg(64, 64, 80);
        let mut garbage = vec![0xFF, 0xD8, 0xFF];
        garbage.extend((0..500u32).map(|i| (i * 7 % 251) as u8));
        assert_eq!(
            process(&garbage, Stamp::default(), &l).unwrap_err(),
            Refusal::Corrupt
        );
        let sos = valid.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        assert_eq!(
            process(&valid[..sos - 10], Stamp::default(), &l).unwrap_err(),
            Refusal::Corrupt
        );
        let png_cut = png(32, 32);
        assert_eq!(
            process(&png_cut[..40], Stamp::default(), &l).unwrap_err(),
            Refusal::Corrupt
        );
        // cut inside the scan: refused or accepted, but never a panic
        let _ = process(&valid[..sos + 40], Stamp::default(), &l);
    }

    #[test]
    fn random_mutations_never_panic() {
        let valid = camera_jpeg(96, 64);
        let l = Limits::default();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..200 {
            let mut m = valid.clone();
            let edits = 1 + xorshift(&mut seed) % 8;
            for _ in 0..edits {
                let at = (xorshift(&mut seed) % m.len() as u64) as usize;
                m[at] = xorshift(&mut seed) as u8;
            }
            if xorshift(&mut seed).is_multiple_of(4) {
                let cut = (xorshift(&mut seed) % m.len() as u64) as usize;
                m.truncate(cut.max(3));
            }
            let _ = process(&m, Stamp::default(), &l);
            let _ = read_stamp(&m);
        }
    }

    #[test]
    #[ignore = "timing; run with --release --ignored --nocapture"]
    fn timing_1600x1200() {
        let mut q = 90;
        let mut input = jpeg(1600, 1200, q);
        while input.len() > 420_000 && q > 40 {
            q -= 5;
            input = jpeg(1600, 1200, q);
        }
        let l = Limits::default();
        let mut times = Vec::new();
        for _ in 0..30 {
            let t = std::time::Instant::now();
            let p = process(&input, Stamp::default(), &l).unwrap();
            times.push(t.elapsed());
            assert_eq!(p.width, 1600);
        }
        times.sort();
        println!(
            "process() on {} bytes 1600x1200 JPEG (q{q}): p50 {:?}, max {:?}",
            input.len(),
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
