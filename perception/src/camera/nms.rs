use pitsense_models::{NmsMode, OutputContract};
use pitsense_types::BoxPx;

/// One candidate box before NMS, in original-image pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Candidate {
    pub(crate) box_px: BoxPx,
    pub(crate) class_index: u32,
    pub(crate) score: f32,
}

/// Decodes a YOLOX anchor-free output (Ge et al. 2021, "YOLOX: Exceeding YOLO Series in
/// 2021", §2.1; reference: YOLOX `demo_postprocess` + `multiclass_nms_class_aware`) into
/// candidate boxes in original pixels.
///
/// `output` is the row-major `[anchors, 5 + classes]` tensor; rows are grid points of the
/// strides in order, each grid row-major (y outer, x inner). For row `[tx, ty, tw, th, obj,
/// cls...]` at grid cell `(gx, gy)` of stride `s`: `cx = (tx + gx) s`, `cy = (ty + gy) s`,
/// `w = exp(tw) s`, `h = exp(th) s` in input pixels, divided by the letterbox `scale` (and
/// shifted by its offsets) to reach original pixels. A box is a candidate for every class `c`
/// whose `obj · cls_c > score_threshold` (class-aware, as the reference). When scores are
/// logits (`scores_are_probabilities = false`) a sigmoid is applied first.
///
/// Returns `(candidates, rows_decoded)`; a tensor with fewer rows than the grids need decodes
/// only the rows present.
pub(crate) fn decode_yolox_candidates(
    output: &[f32],
    contract: &OutputContract,
    input_width_px: u32,
    input_height_px: u32,
    to_original: impl Fn(f64, f64) -> (f64, f64),
    score_threshold: f32,
    candidates: &mut Vec<Candidate>,
) -> usize {
    candidates.clear();
    let row_len = contract.row_len();
    let activate = |value: f32| {
        if contract.scores_are_probabilities { value } else { 1.0 / (1.0 + (-value).exp()) }
    };
    let mut rows = output.chunks_exact(row_len);
    let mut decoded = 0;
    for &stride in &contract.strides {
        let (grid_w, grid_h) = (input_width_px.div_ceil(stride), input_height_px.div_ceil(stride));
        let s = f64::from(stride);
        for gy in 0..grid_h {
            for gx in 0..grid_w {
                let Some(row) = rows.next() else { return decoded };
                decoded += 1;
                let &[tx, ty, tw, th, obj, ref classes @ ..] = row else { continue };
                let obj = activate(obj);
                if obj.is_nan() || obj <= score_threshold {
                    continue;
                }
                let cx = (f64::from(tx) + f64::from(gx)) * s;
                let cy = (f64::from(ty) + f64::from(gy)) * s;
                let w = f64::from(tw).exp() * s;
                let h = f64::from(th).exp() * s;
                let (x1, y1) = to_original(cx - w / 2.0, cy - h / 2.0);
                let (x2, y2) = to_original(cx + w / 2.0, cy + h / 2.0);
                let box_px = BoxPx { x1: x1 as f32, y1: y1 as f32, x2: x2 as f32, y2: y2 as f32 };
                if ![box_px.x1, box_px.y1, box_px.x2, box_px.y2].iter().all(|v| v.is_finite()) {
                    continue;
                }
                for (class_index, &class_score) in classes.iter().enumerate() {
                    let score = obj * activate(class_score);
                    if score > score_threshold {
                        candidates.push(Candidate { box_px, class_index: class_index as u32, score });
                    }
                }
            }
        }
    }
    decoded
}

/// Public wrapper of the YOLOX decoder for tests and tools: returns `(box, class_index, score)`.
///
/// See the crate-private decoder for the maths; `scale` is the letterbox factor
/// (original = input / scale, top-left placement).
pub fn decode_yolox(
    output: &[f32],
    contract: &OutputContract,
    input_width_px: u32,
    input_height_px: u32,
    scale: f64,
    score_threshold: f32,
) -> Vec<(BoxPx, u32, f32)> {
    let mut candidates = Vec::new();
    decode_yolox_candidates(
        output,
        contract,
        input_width_px,
        input_height_px,
        |x, y| (x / scale, y / scale),
        score_threshold,
        &mut candidates,
    );
    candidates.into_iter().map(|c| (c.box_px, c.class_index, c.score)).collect()
}

/// Class-aware greedy non-maximum suppression (Neubeck & Van Gool 2006; as YOLOX's
/// `multiclass_nms_class_aware`): within each class, boxes are taken by decreasing score and a
/// box is dropped when its IoU with a kept box of the same class exceeds `iou_threshold`.
///
/// Input `(box, class_index, score)`; output the kept ones sorted by decreasing score, ties by
/// class index then position, so the result does not depend on the input order.
/// At most `max_detections` are returned.
pub fn class_aware_nms(
    boxes: Vec<(BoxPx, u32, f32)>,
    iou_threshold: f32,
    max_detections: usize,
) -> Vec<(BoxPx, u32, f32)> {
    non_maximum_suppression(boxes, NmsMode::ClassAware, iou_threshold, max_detections)
}

/// Class-agnostic greedy non-maximum suppression (as YOLOX's `multiclass_nms_class_agnostic`):
/// boxes are taken by decreasing score and a box is dropped when its IoU with any kept box,
/// whatever its class, exceeds `iou_threshold`; one object comes out once, with its best class.
///
/// Input and output as [`class_aware_nms`].
pub fn class_agnostic_nms(
    boxes: Vec<(BoxPx, u32, f32)>,
    iou_threshold: f32,
    max_detections: usize,
) -> Vec<(BoxPx, u32, f32)> {
    non_maximum_suppression(boxes, NmsMode::ClassAgnostic, iou_threshold, max_detections)
}

/// Greedy non-maximum suppression in the manifest's `mode` ([`class_aware_nms`] or
/// [`class_agnostic_nms`]).
pub fn non_maximum_suppression(
    mut boxes: Vec<(BoxPx, u32, f32)>,
    mode: NmsMode,
    iou_threshold: f32,
    max_detections: usize,
) -> Vec<(BoxPx, u32, f32)> {
    boxes.sort_by(|a, b| {
        b.2.total_cmp(&a.2)
            .then(a.1.cmp(&b.1))
            .then(a.0.x1.total_cmp(&b.0.x1))
            .then(a.0.y1.total_cmp(&b.0.y1))
            .then(a.0.x2.total_cmp(&b.0.x2))
            .then(a.0.y2.total_cmp(&b.0.y2))
    });
    let mut kept: Vec<(BoxPx, u32, f32)> = Vec::new();
    for candidate in boxes {
        if kept.len() >= max_detections {
            break;
        }
        let competes = |keep: &(BoxPx, u32, f32)| match mode {
            NmsMode::ClassAware => keep.1 == candidate.1,
            NmsMode::ClassAgnostic => true,
        };
        let suppressed = kept.iter().any(|keep| competes(keep) && keep.0.iou(&candidate.0) > iou_threshold);
        if !suppressed {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(x1: f32, y1: f32, x2: f32, y2: f32) -> BoxPx {
        BoxPx { x1, y1, x2, y2 }
    }

    #[test]
    fn nms_suppresses_within_a_class_only() {
        let boxes = vec![
            (bx(0.0, 0.0, 10.0, 10.0), 0, 0.9),
            // IoU with the first: 81 / (100 + 100 - 81) = 0.68 > 0.45: suppressed.
            (bx(1.0, 1.0, 10.0, 10.0), 0, 0.8),
            // Same box, other class: kept.
            (bx(1.0, 1.0, 10.0, 10.0), 1, 0.7),
            // IoU 25 / 175 = 0.14: kept.
            (bx(5.0, 5.0, 15.0, 15.0), 0, 0.6),
        ];
        let kept = class_aware_nms(boxes, 0.45, 100);
        let scores: Vec<f32> = kept.iter().map(|k| k.2).collect();
        assert_eq!(scores, vec![0.9, 0.7, 0.6]);
    }

    #[test]
    fn class_agnostic_nms_keeps_one_box_per_object() {
        // Issue 16 B12: one animal as dog 0.83 and cat 0.38, boxes 100 × 100 px offset by 2.5 px
        // along x: IoU = 97.5·100 / (2·10000 − 9750) = 9750 / 10250 = 0.951.
        let (dog, cat) = (bx(100.0, 100.0, 200.0, 200.0), bx(102.5, 100.0, 202.5, 200.0));
        assert!((dog.iou(&cat) - 9750.0 / 10250.0).abs() < 1e-6);
        let boxes = vec![(cat, 15, 0.38), (dog, 16, 0.83)];
        let aware = class_aware_nms(boxes.clone(), 0.45, 100);
        assert_eq!(aware.iter().map(|k| (k.1, k.2)).collect::<Vec<_>>(), vec![(16, 0.83), (15, 0.38)]);
        let agnostic = class_agnostic_nms(boxes.clone(), 0.45, 100);
        assert_eq!(agnostic, vec![(dog, 16, 0.83)]);
        assert_eq!(non_maximum_suppression(boxes, NmsMode::ClassAgnostic, 0.45, 100), agnostic);
        // Below the IoU threshold both stay in either mode.
        let apart = vec![(dog, 16, 0.83), (bx(300.0, 100.0, 400.0, 200.0), 15, 0.38)];
        assert_eq!(class_agnostic_nms(apart, 0.45, 100).len(), 2);
    }

    #[test]
    fn decoder_places_a_box_by_hand() {
        let manifest = pitsense_models::builtin_manifest("yolox_nano").unwrap();
        let contract = &manifest.output;
        let rows = contract.anchor_count(416, 416);
        let mut output = vec![0.0f32; rows * contract.row_len()];
        // Stride-16 grid starts after 52*52 rows; cell (gx=3, gy=2) is row 52*52 + 2*26 + 3.
        let row = 52 * 52 + 2 * 26 + 3;
        let base = row * contract.row_len();
        output[base..base + 5].copy_from_slice(&[0.5, 0.25, 0.0, (2.0f32).ln(), 0.9]);
        output[base + 5 + 2] = 0.5; // class 2 (car): score 0.45
        let decoded = decode_yolox(&output, contract, 416, 416, 0.5, 0.3);
        assert_eq!(decoded.len(), 1);
        let (box_px, class_index, score) = decoded[0];
        // cx = 3.5*16 = 56, cy = 2.25*16 = 36, w = 16, h = 32 (input px); / 0.5 -> original.
        assert_eq!(class_index, 2);
        assert!((score - 0.45).abs() < 1e-6);
        let expected = bx(96.0, 40.0, 128.0, 104.0);
        for (got, want) in [box_px.x1, box_px.y1, box_px.x2, box_px.y2].iter().zip([
            expected.x1,
            expected.y1,
            expected.x2,
            expected.y2,
        ]) {
            assert!((got - want).abs() < 1e-3, "{box_px:?}");
        }
    }
}
