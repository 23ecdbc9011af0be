//! Reader for the PointRCNN detections AB3DMOT ships (`data/KITTI/detection/pointrcnn_*_val`).
//!
//! One detection per line, **comma-separated**, 15 columns (note: not the KITTI label order):
//!
//! ```text
//! frame, type_id, x1, y1, x2, y2, score, h, w, l, x, y, z, rot_y, alpha
//! ```
//!
//! `type_id`: 1 Pedestrian, 2 Car, 3 Cyclist; `x1..y2`: 2D box in pixels; `score`: the
//! detector's raw confidence (PointRCNN logits, may be negative); `h w l`: metres; `x y z`:
//! bottom-face centre in the rectified camera frame, metres; `rot_y`, `alpha`: radians. Same
//! bad-line policy as [`super::format`]: malformed lines are skipped and reported.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::class::TrackingClass;
use super::format::{
    FormatError, LineProblem, Parsed, check_size, parse_f64, parse_frame, parse_integral, parse_lines,
    read_text,
};
use super::geometry::{ImageBox, KittiBox3d};

/// One PointRCNN detection (plain data; converting to `pitsense_types::Detection3d` is the
/// caller's business).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointRcnnDetection {
    /// Frame index in the sequence.
    pub frame: u32,
    /// Class from `type_id`.
    pub class: TrackingClass,
    /// 2D box in image pixels.
    pub box_2d: ImageBox,
    /// Detector confidence (unbounded; higher is more confident).
    pub score: f64,
    /// 3D box in the rectified camera frame.
    pub box_3d: KittiBox3d,
    /// Observation angle, radians.
    pub alpha_rad: f64,
}

/// Detections of one sequence by frame (sorted), file order kept within a frame.
pub type DetectionsByFrame = BTreeMap<u32, Vec<PointRcnnDetection>>;

const COLUMNS: [&str; 15] =
    ["frame", "type_id", "x1", "y1", "x2", "y2", "score", "h", "w", "l", "x", "y", "z", "rot_y", "alpha"];

fn parse_fields(fields: &[&str]) -> Result<PointRcnnDetection, LineProblem> {
    if fields.len() != COLUMNS.len() {
        return Err(LineProblem::ColumnCount { expected: "15", found: fields.len() });
    }
    let mut numbers = [0.0_f64; 15];
    for (index, (text, column)) in fields.iter().zip(COLUMNS).enumerate().skip(2) {
        numbers[index] = parse_f64(text, column)?;
    }
    let frame = parse_frame(fields[0], COLUMNS[0])?;
    let type_id = parse_integral(fields[1], COLUMNS[1])?;
    let class = TrackingClass::from_ab3dmot_type_id(type_id).ok_or(LineProblem::UnknownTypeId { type_id })?;
    Ok(PointRcnnDetection {
        frame,
        class,
        box_2d: ImageBox { x1_px: numbers[2], y1_px: numbers[3], x2_px: numbers[4], y2_px: numbers[5] },
        score: numbers[6],
        box_3d: KittiBox3d {
            h_m: check_size(numbers[7], COLUMNS[7])?,
            w_m: check_size(numbers[8], COLUMNS[8])?,
            l_m: check_size(numbers[9], COLUMNS[9])?,
            x_m: numbers[10],
            y_m: numbers[11],
            z_m: numbers[12],
            rot_y_rad: numbers[13],
        },
        alpha_rad: numbers[14],
    })
}

/// Parses the text of a PointRCNN detection file; `path` only names the file in warnings.
pub fn parse_pointrcnn_text(text: &str, path: &Path) -> Parsed<DetectionsByFrame> {
    let parsed = parse_lines(text, path, |line| line.split(',').map(str::trim).collect(), parse_fields);
    let mut frames = DetectionsByFrame::new();
    for detection in parsed.data {
        frames.entry(detection.frame).or_default().push(detection);
    }
    Parsed { data: frames, warnings: parsed.warnings }
}

/// Reads one PointRCNN detection file
/// (`kitti_tracking/detections_pointrcnn_val/{Car,Pedestrian,Cyclist}/<seq>.txt`).
///
/// # Errors
/// [`FormatError::Read`] when the file cannot be read; malformed lines are warnings.
pub fn read_pointrcnn_detections(path: &Path) -> Result<Parsed<DetectionsByFrame>, FormatError> {
    Ok(parse_pointrcnn_text(&read_text(path)?, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_detection_line() {
        let text = "0,2,298.3125,165.1800,458.2292,293.4391,8.2981,1.9605,1.8137,4.7549,-4.5720,1.8435,13.5308,-2.1125,-1.7867\n";
        let parsed = parse_pointrcnn_text(text, Path::new("0000.txt"));
        assert!(parsed.warnings.is_empty());
        let detection = &parsed.data[&0][0];
        assert_eq!(detection.class, TrackingClass::Car);
        assert_eq!(detection.score, 8.2981);
        assert_eq!(detection.box_3d.l_m, 4.7549);
        assert_eq!(detection.box_3d.z_m, 13.5308);
        assert_eq!(detection.alpha_rad, -1.7867);
    }
}
