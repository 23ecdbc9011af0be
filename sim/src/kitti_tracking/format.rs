//! KITTI tracking text formats: label/result files, seqmaps, and the result writer.
//!
//! Label and result files (KITTI tracking devkit, `readme.txt` of the tracking benchmark): one
//! object per line, space-separated, 17 columns
//!
//! ```text
//! frame track_id type truncated occluded alpha x1 y1 x2 y2 h w l x y z rot_y [score]
//! ```
//!
//! - `frame`: frame index in the sequence; `track_id`: object identity, `-1` for DontCare regions;
//! - `type`: `Car`, `Van`, `Truck`, `Pedestrian`, `Person_sitting`, `Cyclist`, `Tram`, `Misc`,
//!   `DontCare`;
//! - `truncated` (0, 1, 2) and `occluded` (0 visible, 1 partly, 2 largely, 3 unknown): integers in
//!   the tracking format (`-1` for DontCare); read as the devkit does, `int(float(text))`;
//! - `alpha`: observation angle, radians; `x1 y1 x2 y2`: 2D box in image pixels;
//! - `h w l`: size in metres; `x y z`: bottom-face centre in the rectified camera frame, metres;
//!   `rot_y`: yaw about the camera y axis, radians (see [`super::geometry`]);
//! - `score` (results only, optional 18th column): tracker confidence; the AB3DMOT evaluation
//!   thresholds on it to sample the recall axis, so results should carry it.
//!
//! Seqmap files (devkit `evaluate_tracking.seqmap*`): `seq empty first_frame frame_count`.
//!
//! Bad-line policy (all readers here): a malformed line (wrong column count, unparsable or
//! non-finite number, negative size, ...) is skipped and reported as a [`LineWarning`] naming the
//! file and the 1-based line; blank lines are skipped silently. Only I/O failures are errors.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::geometry::{ImageBox, KittiBox3d};

/// An I/O failure on a whole file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A skipped input line: which file, which line (1-based) and what was wrong with it.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("{}:{line}: {problem}", path.display())]
pub struct LineWarning {
    /// The file the line came from (as given to the reader).
    pub path: PathBuf,
    /// Line number, starting at 1.
    pub line: usize,
    /// What was wrong.
    pub problem: LineProblem,
}

/// Why a line was skipped.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineProblem {
    /// The number of columns is not one the format allows.
    #[error("expected {expected} columns, found {found}")]
    ColumnCount {
        /// Allowed counts, in words (`"17 or 18"`).
        expected: &'static str,
        /// Columns found.
        found: usize,
    },
    /// A numeric column does not parse as a number.
    #[error("column `{column}` is not a number: `{text}`")]
    NotANumber {
        /// Column name.
        column: &'static str,
        /// The text found.
        text: String,
    },
    /// A numeric column is NaN or infinite.
    #[error("column `{column}` is not finite: `{text}`")]
    NotFinite {
        /// Column name.
        column: &'static str,
        /// The text found.
        text: String,
    },
    /// An integer column (frame, id) holds a fractional or out-of-range value.
    #[error("column `{column}` is not a valid integer: `{text}`")]
    NotAnInteger {
        /// Column name.
        column: &'static str,
        /// The text found.
        text: String,
    },
    /// A box dimension is negative (DontCare lines, which carry `-1000` sizes, are exempt).
    #[error("column `{column}` is a negative size: {value}")]
    NegativeSize {
        /// Column name.
        column: &'static str,
        /// The value found, metres.
        value: f64,
    },
    /// The class id of a detection file is not one of the known ids.
    #[error("unknown type id {type_id} (expected 1 Pedestrian, 2 Car, 3 Cyclist)")]
    UnknownTypeId {
        /// The id found.
        type_id: i64,
    },
}

/// A parsed file: its content and the lines that were skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed<T> {
    /// What was read from the well-formed lines.
    pub data: T,
    /// One entry per skipped line, in file order.
    pub warnings: Vec<LineWarning>,
}

/// One line of a KITTI tracking label or result file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackingObject {
    /// Frame index in the sequence.
    pub frame: u32,
    /// Object identity within the sequence; `-1` for DontCare regions (and invalid objects).
    pub track_id: i64,
    /// Object type as written in the file (`Car`, `Van`, `DontCare`, ...).
    pub object_type: String,
    /// Truncation level (0 none, 1 partly, 2 largely; `-1` DontCare).
    pub truncated: i32,
    /// Occlusion level (0 visible, 1 partly, 2 largely, 3 unknown; `-1` DontCare).
    pub occluded: i32,
    /// Observation angle, radians.
    pub alpha_rad: f64,
    /// 2D box in image pixels.
    pub box_2d: ImageBox,
    /// 3D box in the rectified camera frame (`-1000` sizes for DontCare).
    pub box_3d: KittiBox3d,
    /// Confidence from the 18th column of result files; `None` in 17-column files.
    pub score: Option<f64>,
}

impl TrackingObject {
    /// Whether this line is a DontCare region (`type` DontCare, case-insensitive).
    pub fn is_dont_care(&self) -> bool {
        self.object_type.eq_ignore_ascii_case("dontcare")
    }
}

/// One sequence: its objects grouped by frame (sorted), file order kept within each frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sequence {
    /// Objects by frame index. Frames without objects may be absent.
    pub frames: BTreeMap<u32, Vec<TrackingObject>>,
}

impl Sequence {
    /// Groups objects by their frame, keeping their order within a frame.
    pub fn from_objects(objects: impl IntoIterator<Item = TrackingObject>) -> Self {
        let mut frames: BTreeMap<u32, Vec<TrackingObject>> = BTreeMap::new();
        for object in objects {
            frames.entry(object.frame).or_default().push(object);
        }
        Self { frames }
    }

    /// All objects, by frame then file order.
    pub fn objects(&self) -> impl Iterator<Item = &TrackingObject> {
        self.frames.values().flatten()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.frames.values().map(Vec::len).sum()
    }

    /// Whether the sequence holds no object.
    pub fn is_empty(&self) -> bool {
        self.frames.values().all(Vec::is_empty)
    }
}

/// Several sequences keyed by name (`"0000"`, ...), sorted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SequenceSet {
    /// Sequences by name.
    pub sequences: BTreeMap<String, Sequence>,
}

/// One line of a seqmap file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeqmapEntry {
    /// Sequence name, the number zero-padded to four digits as the devkit writes it (`"0007"`).
    pub name: String,
    /// First frame index.
    pub first_frame: u32,
    /// The fourth column: the number of frames (the devkit computes `fourth − first + 1` frames,
    /// one more than the sequence holds; only its false-alarm rate uses it).
    pub frame_count: u32,
}

/// Column names of the tracking format, in order.
const TRACKING_COLUMNS: [&str; 18] = [
    "frame",
    "track_id",
    "type",
    "truncated",
    "occluded",
    "alpha",
    "x1",
    "y1",
    "x2",
    "y2",
    "h",
    "w",
    "l",
    "x",
    "y",
    "z",
    "rot_y",
    "score",
];

/// Parses a finite `f64` column.
pub(crate) fn parse_f64(text: &str, column: &'static str) -> Result<f64, LineProblem> {
    let value: f64 = text.parse().map_err(|_| LineProblem::NotANumber { column, text: text.to_owned() })?;
    if value.is_finite() { Ok(value) } else { Err(LineProblem::NotFinite { column, text: text.to_owned() }) }
}

/// Parses an integer column written as an integer or an integral float (`"3"`, `"3.000000"`).
pub(crate) fn parse_integral(text: &str, column: &'static str) -> Result<i64, LineProblem> {
    if let Ok(value) = text.parse::<i64>() {
        return Ok(value);
    }
    let value = parse_f64(text, column)?;
    // 2^53: beyond it an f64 no longer holds every integer.
    if value.fract() == 0.0 && value.abs() <= 9_007_199_254_740_992.0 {
        Ok(value as i64)
    } else {
        Err(LineProblem::NotAnInteger { column, text: text.to_owned() })
    }
}

/// Parses a non-negative frame index.
pub(crate) fn parse_frame(text: &str, column: &'static str) -> Result<u32, LineProblem> {
    let value = parse_integral(text, column)?;
    u32::try_from(value).map_err(|_| LineProblem::NotAnInteger { column, text: text.to_owned() })
}

/// `int(float(text))` as the devkit reads truncation and occlusion: truncated toward zero.
fn parse_level(text: &str, column: &'static str) -> Result<i32, LineProblem> {
    let value = parse_f64(text, column)?.trunc();
    if value.abs() <= f64::from(i32::MAX) {
        Ok(value as i32)
    } else {
        Err(LineProblem::NotAnInteger { column, text: text.to_owned() })
    }
}

/// Fails on a negative box dimension.
pub(crate) fn check_size(value: f64, column: &'static str) -> Result<f64, LineProblem> {
    if value < 0.0 { Err(LineProblem::NegativeSize { column, value }) } else { Ok(value) }
}

/// Parses one tracking line already split into fields.
fn parse_tracking_fields(fields: &[&str]) -> Result<TrackingObject, LineProblem> {
    if fields.len() != 17 && fields.len() != 18 {
        return Err(LineProblem::ColumnCount { expected: "17 or 18", found: fields.len() });
    }
    let mut numbers = [0.0_f64; 18];
    for (index, (text, column)) in fields.iter().zip(TRACKING_COLUMNS).enumerate() {
        if index >= 5 {
            numbers[index] = parse_f64(text, column)?;
        }
    }
    let object_type = fields[2].to_owned();
    let frame = parse_frame(fields[0], TRACKING_COLUMNS[0])?;
    let track_id = parse_integral(fields[1], TRACKING_COLUMNS[1])?;
    let truncated = parse_level(fields[3], TRACKING_COLUMNS[3])?;
    let occluded = parse_level(fields[4], TRACKING_COLUMNS[4])?;
    let dont_care = object_type.eq_ignore_ascii_case("dontcare");
    let size = |index: usize| -> Result<f64, LineProblem> {
        if dont_care { Ok(numbers[index]) } else { check_size(numbers[index], TRACKING_COLUMNS[index]) }
    };
    Ok(TrackingObject {
        frame,
        track_id,
        object_type,
        truncated,
        occluded,
        alpha_rad: numbers[5],
        box_2d: ImageBox { x1_px: numbers[6], y1_px: numbers[7], x2_px: numbers[8], y2_px: numbers[9] },
        box_3d: KittiBox3d {
            h_m: size(10)?,
            w_m: size(11)?,
            l_m: size(12)?,
            x_m: numbers[13],
            y_m: numbers[14],
            z_m: numbers[15],
            rot_y_rad: numbers[16],
        },
        score: (fields.len() == 18).then_some(numbers[17]),
    })
}

/// Runs `parse` on every non-blank line of `text`, collecting the results and the warnings.
pub(crate) fn parse_lines<T>(
    text: &str,
    path: &Path,
    split: impl Fn(&str) -> Vec<&str>,
    parse: impl Fn(&[&str]) -> Result<T, LineProblem>,
) -> Parsed<Vec<T>> {
    let mut data = Vec::new();
    let mut warnings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse(&split(line)) {
            Ok(item) => data.push(item),
            Err(problem) => warnings.push(LineWarning { path: path.to_owned(), line: index + 1, problem }),
        }
    }
    Parsed { data, warnings }
}

/// Reads a whole file as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<String, FormatError> {
    std::fs::read_to_string(path).map_err(|source| FormatError::Read { path: path.to_owned(), source })
}

/// Parses the text of a tracking label or result file; `path` only names the file in warnings.
pub fn parse_tracking_text(text: &str, path: &Path) -> Parsed<Sequence> {
    let parsed = parse_lines(text, path, |line| line.split_whitespace().collect(), parse_tracking_fields);
    Parsed { data: Sequence::from_objects(parsed.data), warnings: parsed.warnings }
}

/// Reads a KITTI tracking label or result file (17 or 18 columns, see the module docs).
///
/// # Errors
/// [`FormatError::Read`] when the file cannot be read; malformed lines are not errors but
/// [`Parsed::warnings`].
pub fn read_tracking_file(path: &Path) -> Result<Parsed<Sequence>, FormatError> {
    Ok(parse_tracking_text(&read_text(path)?, path))
}

/// Parses one seqmap line.
fn parse_seqmap_fields(fields: &[&str]) -> Result<SeqmapEntry, LineProblem> {
    let [sequence, _empty, first, count] = fields else {
        return Err(LineProblem::ColumnCount { expected: "4", found: fields.len() });
    };
    let number = parse_frame(sequence, "seq")?;
    Ok(SeqmapEntry {
        name: format!("{number:04}"),
        first_frame: parse_frame(first, "first_frame")?,
        frame_count: parse_frame(count, "frame_count")?,
    })
}

/// Parses the text of a seqmap file; `path` only names the file in warnings.
pub fn parse_seqmap_text(text: &str, path: &Path) -> Parsed<Vec<SeqmapEntry>> {
    parse_lines(text, path, |line| line.split_whitespace().collect(), parse_seqmap_fields)
}

/// Reads a devkit seqmap file (`seq empty first_frame frame_count` per line), in file order.
///
/// # Errors
/// [`FormatError::Read`] when the file cannot be read; malformed lines are warnings.
pub fn read_seqmap(path: &Path) -> Result<Parsed<Vec<SeqmapEntry>>, FormatError> {
    Ok(parse_seqmap_text(&read_text(path)?, path))
}

/// Reads `<dir>/<name>.txt` for every seqmap entry (labels or results), keyed by name.
///
/// # Errors
/// [`FormatError::Read`] naming the first file that cannot be read (a missing result file is an
/// error, as in the devkit); malformed lines of all files are collected as warnings.
pub fn read_sequence_set(dir: &Path, seqmap: &[SeqmapEntry]) -> Result<Parsed<SequenceSet>, FormatError> {
    let mut set = SequenceSet::default();
    let mut warnings = Vec::new();
    for entry in seqmap {
        let parsed = read_tracking_file(&dir.join(format!("{}.txt", entry.name)))?;
        warnings.extend(parsed.warnings);
        set.sequences.insert(entry.name.clone(), parsed.data);
    }
    Ok(Parsed { data: set, warnings })
}

/// Formats one object as an 18-column result line (no newline).
///
/// Integers for `frame`, `track_id`, `truncated`, `occluded`; six decimals (`%f`, as AB3DMOT
/// writes) for every real; the score last, `-1.000000` when the object has none (the value the
/// devkit assumes for 17-column files). Deterministic: Rust's `{:.6}` is exact-rounded.
pub fn format_tracking_line(object: &TrackingObject) -> String {
    let b2 = &object.box_2d;
    let b3 = &object.box_3d;
    format!(
        "{} {} {} {} {} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6}",
        object.frame,
        object.track_id,
        object.object_type,
        object.truncated,
        object.occluded,
        object.alpha_rad,
        b2.x1_px,
        b2.y1_px,
        b2.x2_px,
        b2.y2_px,
        b3.h_m,
        b3.w_m,
        b3.l_m,
        b3.x_m,
        b3.y_m,
        b3.z_m,
        b3.rot_y_rad,
        object.score.unwrap_or(-1.0),
    )
}

/// Writes objects as result lines ([`format_tracking_line`]), one per line, in the given order.
///
/// # Errors
/// Any error of `writer`.
pub fn write_tracking_objects<'a>(
    writer: &mut impl Write,
    objects: impl IntoIterator<Item = &'a TrackingObject>,
) -> std::io::Result<()> {
    for object in objects {
        writeln!(writer, "{}", format_tracking_line(object))?;
    }
    Ok(())
}

/// Writes a sequence as a result file at `path` (frames ascending, file order within a frame).
///
/// # Errors
/// [`FormatError::Write`] when the file cannot be created or written.
pub fn write_tracking_file(path: &Path, sequence: &Sequence) -> Result<(), FormatError> {
    let to_error = |source| FormatError::Write { path: path.to_owned(), source };
    let file = std::fs::File::create(path).map_err(to_error)?;
    let mut writer = std::io::BufWriter::new(file);
    write_tracking_objects(&mut writer, sequence.objects()).map_err(to_error)?;
    writer.flush().map_err(to_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_label_line() {
        let text = "3 7 Car 0 1 -1.5 10 20 110 80 1.5 1.6 3.9 -4.5 1.8 13.4 -2.1\n";
        let parsed = parse_tracking_text(text, Path::new("x.txt"));
        assert!(parsed.warnings.is_empty());
        let object = &parsed.data.frames[&3][0];
        assert_eq!((object.track_id, object.truncated, object.occluded), (7, 0, 1));
        assert_eq!(object.box_3d.l_m, 3.9);
        assert_eq!(object.score, None);
    }

    #[test]
    fn integral_floats_are_integers() {
        assert_eq!(parse_integral("12.000000", "frame"), Ok(12));
        assert!(parse_integral("1.5", "frame").is_err());
        assert!(parse_frame("-1", "frame").is_err());
        assert_eq!(parse_level("-1.000000", "occluded"), Ok(-1));
    }

    #[test]
    fn seqmap_names_are_zero_padded() {
        let parsed = parse_seqmap_text("7 empty 000000 000800\n\nbad line\n", Path::new("m"));
        assert_eq!(parsed.data, vec![SeqmapEntry { name: "0007".into(), first_frame: 0, frame_count: 800 }]);
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(parsed.warnings[0].line, 3);
    }
}
