//! Late camera-lidar fusion: project lidar boxes into the image, match them to camera boxes by
//! IoU with an optimal assignment, and give matched lidar objects the camera's class.
//!
//! This is the box-level ("late") fusion used as the classical baseline in, among others,
//! Pang et al., "CLOCs: Camera-LiDAR Object Candidates Fusion for 3D Object Detection",
//! IROS 2020 (IoU between projected 3D boxes and 2D boxes), with the one-to-one association
//! solved by the Hungarian method instead of thresholding.
//!
//! A detector with class-aware NMS may report one object several times, once per class whose
//! score passes its threshold (a dog at 0.83 and a cat at 0.38 on the same animal, their boxes at
//! IoU 0.95). Camera boxes that overlap by at least `same_object_iou` are therefore taken as one
//! camera object first (greedy by decreasing score, as class-agnostic NMS does); the association
//! is by overlap, the label by score: a matched lidar object takes the class and score of the
//! best-scoring detection of its camera object, never of whichever box happens to overlap more.

use pitsense_types::nalgebra::Point3;
use pitsense_types::{
    BoxPx, CameraCalibration, ConfigError, Detection2d, Detection3d, FrameId, ObjectSource,
};
use serde::{Deserialize, Serialize};

use crate::association::assign_max_weight;

/// Settings of [`CameraLidarFusion`], TOML table `[fusion]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FusionConfig {
    /// Smallest IoU between a projected lidar box and a camera box for them to be fused,
    /// in `(0, 1]`. Default 0.3.
    pub min_iou: f64,
    /// Near clipping plane: depth along the camera's optical axis, metres, in front of which a
    /// point must lie to be projected, in `(0, 100]`. Default 0.1 m.
    pub min_depth_m: f64,
    /// Smallest IoU between two camera boxes for them to be one object seen as several classes,
    /// in `(0, 1]`; the best-scoring one gives the label. Default 0.7 (distinct objects, even
    /// occluding ones, rarely overlap this much in the image; duplicates left by class-aware
    /// NMS overlap by 0.9 and more). 1 merges only identical boxes.
    pub same_object_iou: f64,
}

impl Default for FusionConfig {
    fn default() -> Self {
        Self { min_iou: 0.3, min_depth_m: 0.1, same_object_iou: 0.7 }
    }
}

impl FusionConfig {
    /// Checks every value.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad key (`fusion.min_iou`, `fusion.min_depth_m`,
    /// `fusion.same_object_iou`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.min_iou > 0.0 && self.min_iou <= 1.0) {
            return Err(ConfigError::new("fusion.min_iou", format!("{} must be in (0, 1]", self.min_iou)));
        }
        if !(self.same_object_iou > 0.0 && self.same_object_iou <= 1.0) {
            return Err(ConfigError::new(
                "fusion.same_object_iou",
                format!("{} must be in (0, 1]", self.same_object_iou),
            ));
        }
        if !(self.min_depth_m > 0.0 && self.min_depth_m <= 100.0) {
            return Err(ConfigError::new(
                "fusion.min_depth_m",
                format!("{} must be in (0, 100] metres", self.min_depth_m),
            ));
        }
        Ok(())
    }
}

/// The camera detection a lidar object was fused with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CameraMatch {
    /// Index into the `camera` slice given to [`CameraLidarFusion::fuse`]: the best-scoring
    /// detection of the camera object matched (whose label and score the lidar object took).
    pub camera_index: usize,
    /// Largest IoU between the projected lidar box and a box of that camera object, in
    /// `[min_iou, 1]`.
    pub iou: f32,
}

/// Result of one [`CameraLidarFusion::fuse`] call.
///
/// `objects`, `projections_px` and `camera_matches` are parallel and in the order of the lidar
/// input (index `i` describes `lidar[i]`), which makes the output deterministic and lets
/// `objects` go to the tracker as a slice.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FusionOutput {
    /// One object per lidar input. Fused: lidar header and geometry, camera `class_label` and
    /// `score`, source [`ObjectSource::Fused`]. Unmatched: the lidar object unchanged (class
    /// normally [`pitsense_types::UNKNOWN_CLASS`], source [`ObjectSource::Lidar`]).
    pub objects: Vec<Detection3d>,
    /// Bounding rectangle of the projected box in the image, pixels, clipped to the image;
    /// `None` when the box is entirely behind the near plane or outside the image, or when the
    /// lidar object is not in a lidar frame or not finite (see [`project_box`]).
    pub projections_px: Vec<Option<BoxPx>>,
    /// The camera detection each object was fused with, if any.
    pub camera_matches: Vec<Option<CameraMatch>>,
    /// Indices (ascending) of camera detections of this camera that matched no lidar object,
    /// alone or as part of a camera object. They create no 3D object.
    pub unmatched_camera: Vec<usize>,
    /// Indices (ascending) of camera detections that were not considered: their frame is not
    /// [`FrameId::ImagePixels`] of the calibration's camera, or their box is not finite.
    pub skipped_camera: Vec<usize>,
}

/// The 12 edges of a box as pairs of indices into [`Detection3d::corners_m`] (bottom face,
/// top face, verticals).
const BOX_EDGES: [(usize, usize); 12] =
    [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)];

/// Projects an oriented 3D box given in the lidar frame into the image of `calib`'s camera.
///
/// The box (its 8 corners, [`Detection3d::corners_m`]) is moved to the optical frame with
/// `calib.camera_from_lidar` and clipped against the near plane `z = min_depth_m`: the vertices
/// of the clipped solid are the corners in front of the plane plus the points where the 12 edges
/// cross it (Sutherland-Hodgman style clipping, Foley et al., "Computer Graphics", §3.12). A
/// perspective projection keeps convexity in front of the camera, so the bounding rectangle of
/// the projected vertices is that of the projected solid. It is then clipped to the image
/// `[0, width_px] × [0, height_px]`.
///
/// Returns the rectangle in pixels, or `None` when the box lies entirely behind the near plane,
/// the clipped rectangle is empty (the box is outside the image), a value is not finite, or
/// `min_depth_m` is not positive. The frame of `box_in_lidar.header` is not checked here
/// ([`CameraLidarFusion::fuse`] does).
pub fn project_box(box_in_lidar: &Detection3d, calib: &CameraCalibration, min_depth_m: f64) -> Option<BoxPx> {
    if min_depth_m.is_nan() || min_depth_m <= 0.0 {
        return None;
    }
    let corners_in_camera = box_in_lidar.corners_m().map(|corner| calib.camera_from_lidar * corner);
    let mut bounds: Option<(f64, f64, f64, f64)> = None;
    let mut include = |point_in_camera: &Point3<f64>| {
        // Every point given here has z >= min_depth_m > 0, so a zero threshold never rejects a
        // finite one.
        if let Some(pixel) = calib.project_camera_point(point_in_camera, 0.0) {
            let (u, v) = (pixel.x, pixel.y);
            bounds = Some(match bounds {
                None => (u, v, u, v),
                Some((u1, v1, u2, v2)) => (u1.min(u), v1.min(v), u2.max(u), v2.max(v)),
            });
        }
    };
    for corner in corners_in_camera.iter().filter(|c| c.z >= min_depth_m) {
        include(corner);
    }
    for (a, b) in BOX_EDGES {
        let (Some(pa), Some(pb)) = (corners_in_camera.get(a), corners_in_camera.get(b)) else {
            continue;
        };
        if (pa.z >= min_depth_m) != (pb.z >= min_depth_m) {
            let t = (min_depth_m - pa.z) / (pb.z - pa.z);
            let mut crossing = pa + (pb - pa) * t;
            crossing.z = min_depth_m;
            include(&crossing);
        }
    }
    let (u1, v1, u2, v2) = bounds?;
    let width = f64::from(calib.intrinsics.width_px);
    let height = f64::from(calib.intrinsics.height_px);
    let (x1, y1, x2, y2) = (u1.max(0.0), v1.max(0.0), u2.min(width), v2.min(height));
    if !(x1.is_finite() && y1.is_finite() && x2.is_finite() && y2.is_finite()) || x2 <= x1 || y2 <= y1 {
        return None;
    }
    Some(BoxPx { x1: x1 as f32, y1: y1 as f32, x2: x2 as f32, y2: y2 as f32 })
}

/// Box-level camera-lidar fusion stage.
///
/// Stateless between calls apart from scratch buffers; `fuse` needs `&mut self` only to reuse
/// them.
#[derive(Clone, Debug)]
pub struct CameraLidarFusion {
    config: FusionConfig,
    /// Scratch: indices of the camera detections taking part in the assignment.
    candidates: Vec<usize>,
    /// Scratch: for each candidate (same order), the camera object it belongs to.
    object_of_candidate: Vec<usize>,
    /// Scratch: for each camera object, the camera index of its best-scoring detection.
    object_leaders: Vec<usize>,
}

impl CameraLidarFusion {
    /// Builds the stage.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`FusionConfig::validate`].
    pub fn new(config: FusionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            candidates: Vec::new(),
            object_of_candidate: Vec::new(),
            object_leaders: Vec::new(),
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &FusionConfig {
        &self.config
    }

    /// Fuses one lidar frame's objects with one camera's detections.
    ///
    /// 1. Each lidar object in a [`FrameId::Lidar`] frame is projected with [`project_box`].
    /// 2. Camera detections in frame [`FrameId::ImagePixels`]`(calib.camera_id)` with a finite
    ///    box are candidates; the others are listed in [`FusionOutput::skipped_camera`].
    /// 3. Candidates are grouped into camera objects: taken by decreasing score (ties by index),
    ///    each joins the first object whose best-scoring box it overlaps with IoU ≥
    ///    `same_object_iou`, or starts one.
    /// 4. The matrix of IoUs between projections and camera objects (an object's IoU: the
    ///    largest over its boxes) is solved for the maximum total IoU over pairs with IoU ≥
    ///    `min_iou` ([`assign_max_weight`]).
    /// 5. A matched lidar object takes the `class_label` and `score` of its camera object's
    ///    best-scoring detection and becomes [`ObjectSource::Fused`]; its geometry and header
    ///    stay the lidar's.
    ///
    /// Camera and lidar stamps are assumed to be synchronised by the caller.
    pub fn fuse(
        &mut self,
        lidar: &[Detection3d],
        camera: &[Detection2d],
        calib: &CameraCalibration,
    ) -> FusionOutput {
        let projections_px: Vec<Option<BoxPx>> = lidar
            .iter()
            .map(|object| match object.header.frame {
                FrameId::Lidar(_) => project_box(object, calib, self.config.min_depth_m),
                _ => None,
            })
            .collect();

        self.candidates.clear();
        let mut skipped_camera = Vec::new();
        for (index, detection) in camera.iter().enumerate() {
            let b = &detection.box_px;
            let finite = b.x1.is_finite() && b.y1.is_finite() && b.x2.is_finite() && b.y2.is_finite();
            if detection.header.frame == FrameId::ImagePixels(calib.camera_id) && finite {
                self.candidates.push(index);
            } else {
                skipped_camera.push(index);
            }
        }

        // Camera objects: candidates by decreasing score (ties by index), greedy.
        let mut by_score: Vec<usize> = (0..self.candidates.len()).collect();
        let score_of = |position: usize| {
            self.candidates
                .get(position)
                .and_then(|&index| camera.get(index))
                .map_or(f32::NEG_INFINITY, |d| d.score)
        };
        by_score.sort_by(|&a, &b| score_of(b).total_cmp(&score_of(a)).then(a.cmp(&b)));
        self.object_of_candidate.clear();
        self.object_of_candidate.resize(self.candidates.len(), usize::MAX);
        self.object_leaders.clear();
        for position in by_score {
            let Some(detection) = self.candidates.get(position).and_then(|&index| camera.get(index)) else {
                continue;
            };
            let joined = self.object_leaders.iter().position(|&leader| {
                camera.get(leader).is_some_and(|best| {
                    f64::from(best.box_px.iou(&detection.box_px)) >= self.config.same_object_iou
                })
            });
            let object = joined.unwrap_or_else(|| {
                self.object_leaders.push(self.candidates.get(position).copied().unwrap_or_default());
                self.object_leaders.len() - 1
            });
            if let Some(slot) = self.object_of_candidate.get_mut(position) {
                *slot = object;
            }
        }

        let (candidates, object_of_candidate, object_leaders) =
            (&self.candidates, &self.object_of_candidate, &self.object_leaders);
        let min_iou = self.config.min_iou;
        // IoU of a projection with a camera object: the largest over the object's boxes.
        let iou = |row: usize, object: usize| -> Option<f64> {
            let projection = projections_px.get(row).copied().flatten()?;
            candidates
                .iter()
                .zip(object_of_candidate)
                .filter(|&(_, &of)| of == object)
                .filter_map(|(&index, _)| camera.get(index))
                .map(|detection| f64::from(projection.iou(&detection.box_px)))
                .max_by(f64::total_cmp)
        };
        let pairs = assign_max_weight(lidar.len(), object_leaders.len(), |row, object| {
            iou(row, object).filter(|&value| value >= min_iou)
        });

        let mut objects: Vec<Detection3d> = lidar.to_vec();
        let mut camera_matches: Vec<Option<CameraMatch>> = vec![None; lidar.len()];
        let mut camera_used = vec![false; camera.len()];
        for (row, object_index) in pairs {
            let (Some(&camera_index), Some(value)) =
                (object_leaders.get(object_index), iou(row, object_index))
            else {
                continue;
            };
            let (Some(object), Some(detection), Some(slot)) =
                (objects.get_mut(row), camera.get(camera_index), camera_matches.get_mut(row))
            else {
                continue;
            };
            object.class_label.clone_from(&detection.class_label);
            object.score = detection.score;
            object.source = ObjectSource::Fused;
            *slot = Some(CameraMatch { camera_index, iou: value as f32 });
            for (&index, _) in
                candidates.iter().zip(object_of_candidate).filter(|&(_, &of)| of == object_index)
            {
                if let Some(used) = camera_used.get_mut(index) {
                    *used = true;
                }
            }
        }
        let unmatched_camera = candidates
            .iter()
            .copied()
            .filter(|&index| !camera_used.get(index).copied().unwrap_or(false))
            .collect();

        FusionOutput { objects, projections_px, camera_matches, unmatched_camera, skipped_camera }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use pitsense_types::nalgebra::{Isometry3, Matrix3, Rotation3, Translation3, UnitQuaternion, Vector3};
    use pitsense_types::{CameraIntrinsics, Header, UNKNOWN_CLASS};

    use super::*;

    /// fx = fy = 500, principal point (320, 240), 640×480, camera at the lidar origin with its
    /// optical axis along the lidar's x axis.
    fn calibration() -> CameraCalibration {
        // Rows: optical x = −lidar y, optical y = −lidar z, optical z = lidar x.
        let rotation = Matrix3::new(0.0, -1.0, 0.0, 0.0, 0.0, -1.0, 1.0, 0.0, 0.0);
        let rotation = UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(rotation));
        CameraCalibration {
            camera_id: 0,
            intrinsics: CameraIntrinsics {
                fx_px: 500.0,
                fy_px: 500.0,
                cx_px: 320.0,
                cy_px: 240.0,
                width_px: 640,
                height_px: 480,
            },
            camera_from_lidar: Isometry3::from_parts(Translation3::identity(), rotation),
        }
    }

    fn lidar_box(center: [f64; 3], size: [f64; 3]) -> Detection3d {
        Detection3d {
            header: Header { stamp_ns: 100, frame: FrameId::Lidar(0), seq: 7 },
            center_m: Point3::new(center[0], center[1], center[2]),
            size_m: Vector3::new(size[0], size[1], size[2]),
            yaw_rad: 0.0,
            class_label: UNKNOWN_CLASS.into(),
            score: 0.4,
            source: ObjectSource::Lidar,
        }
    }

    fn camera_box(b: [f32; 4], class_label: &str, score: f32) -> Detection2d {
        Detection2d {
            header: Header { stamp_ns: 100, frame: FrameId::ImagePixels(0), seq: 3 },
            box_px: BoxPx { x1: b[0], y1: b[1], x2: b[2], y2: b[3] },
            class_index: 7,
            class_label: class_label.into(),
            score,
        }
    }

    fn assert_box(actual: Option<BoxPx>, expected: [f64; 4]) {
        let actual = actual.unwrap();
        let got = [actual.x1, actual.y1, actual.x2, actual.y2];
        for (g, e) in got.iter().zip(expected) {
            assert!((f64::from(*g) - e).abs() < 1e-3, "{got:?} vs {expected:?}");
        }
    }

    #[test]
    fn a_box_ten_metres_ahead_projects_by_hand() {
        // x in [9, 11], y and z in [-1, 1]: the near face at 9 m spans 500 / 9 px either side.
        let projected = project_box(&lidar_box([10.0, 0.0, 0.0], [2.0, 2.0, 2.0]), &calibration(), 0.1);
        let half = 500.0 / 9.0;
        assert_box(projected, [320.0 - half, 240.0 - half, 320.0 + half, 240.0 + half]);
    }

    #[test]
    fn a_box_leaving_the_image_is_clipped() {
        // y in [5, 7]: u = 320 − 500 y / x is −68.9 at (9, 7), 92.73 at (11, 5) → clipped at 0.
        let projected = project_box(&lidar_box([10.0, 6.0, 0.0], [2.0, 2.0, 2.0]), &calibration(), 0.1);
        let half = 500.0 / 9.0;
        assert_box(projected, [0.0, 240.0 - half, 320.0 - 500.0 * 5.0 / 11.0, 240.0 + half]);
    }

    #[test]
    fn boxes_behind_or_beside_the_camera_do_not_project() {
        let calib = calibration();
        assert_eq!(project_box(&lidar_box([-10.0, 0.0, 0.0], [2.0, 2.0, 2.0]), &calib, 0.1), None);
        // Far to the left (u < 0 for every corner).
        assert_eq!(project_box(&lidar_box([10.0, 40.0, 0.0], [2.0, 2.0, 2.0]), &calib, 0.1), None);
        let mut nan = lidar_box([10.0, 0.0, 0.0], [2.0, 2.0, 2.0]);
        nan.center_m.x = f64::NAN;
        assert_eq!(project_box(&nan, &calib, 0.1), None);
    }

    #[test]
    fn a_box_straddling_the_camera_is_clipped_at_the_near_plane() {
        // x in [-0.5, 1.5], y and z in [-0.2, 0.2]. The corners in front alone give
        // 320 ± 500 · 0.2 / 1.5 = [253.3, 386.7]; the edges cut at the near plane (x = 0.1)
        // reach 320 ± 1000, so the whole image is covered.
        let projected = project_box(&lidar_box([0.5, 0.0, 0.0], [2.0, 0.4, 0.4]), &calibration(), 0.1);
        assert_box(projected, [0.0, 0.0, 640.0, 480.0]);
    }

    #[test]
    fn overlapping_boxes_are_fused_and_others_stay_unknown() {
        let mut fusion = CameraLidarFusion::new(FusionConfig::default()).unwrap();
        let lidar = [
            lidar_box([10.0, 6.0, 0.0], [2.0, 2.0, 2.0]),
            lidar_box([10.0, 0.0, 0.0], [2.0, 2.0, 2.0]),
            lidar_box([-10.0, 0.0, 0.0], [2.0, 2.0, 2.0]),
        ];
        let camera = [
            camera_box([500.0, 10.0, 600.0, 100.0], "person", 0.9),
            camera_box([265.0, 185.0, 375.0, 295.0], "truck", 0.8),
            Detection2d {
                header: Header { stamp_ns: 100, frame: FrameId::ImagePixels(1), seq: 3 },
                ..camera_box([265.0, 185.0, 375.0, 295.0], "car", 0.99)
            },
        ];
        let output = fusion.fuse(&lidar, &camera, &calibration());

        // The projection of lidar[1] is 111.1 px square around (320, 240) and contains the
        // 110 px camera box: IoU = 110² / (1000/9)².
        let expected_iou = (110.0f64 * 110.0) / (1000.0f64 / 9.0).powi(2);
        let matched = output.camera_matches[1].unwrap();
        assert_eq!(matched.camera_index, 1);
        assert!((f64::from(matched.iou) - expected_iou).abs() < 1e-4, "{}", matched.iou);
        let fused = &output.objects[1];
        assert_eq!(fused.class_label, "truck");
        assert_eq!(fused.score, 0.8);
        assert_eq!(fused.source, ObjectSource::Fused);
        assert_eq!(fused.center_m, lidar[1].center_m);
        assert_eq!(fused.header, lidar[1].header);

        assert_eq!(output.objects[0], lidar[0]);
        assert_eq!(output.objects[0].class_label, UNKNOWN_CLASS);
        assert_eq!(output.objects[0].source, ObjectSource::Lidar);
        assert!(output.projections_px[0].is_some());
        assert_eq!(output.camera_matches[0], None);

        assert_eq!(output.projections_px[2], None);
        assert_eq!(output.objects[2], lidar[2]);

        assert_eq!(output.unmatched_camera, vec![0]);
        assert_eq!(output.skipped_camera, vec![2]);
    }

    #[test]
    fn the_label_comes_from_the_best_score_among_duplicates_not_the_best_overlap() {
        // Issue 16 B12: one animal reported twice by class-aware NMS, dog 0.83 and cat 0.38. The
        // lidar box at 10 m projects to a 111.1 px square around (320, 240). The cat box
        // [265, 185, 375, 295] overlaps it more (IoU 110² / 111.1² = 0.980) than the dog box,
        // the same box 2.5 px to the right (IoU 108.1 · 110 / (111.1² + 110² − 108.1 · 110) =
        // 0.953); the two camera boxes overlap with IoU 107.5 / 112.5 = 0.956 ≥ 0.7.
        let mut fusion = CameraLidarFusion::new(FusionConfig::default()).unwrap();
        let lidar = [lidar_box([10.0, 0.0, 0.0], [2.0, 2.0, 2.0])];
        let camera = [
            camera_box([265.0, 185.0, 375.0, 295.0], "cat", 0.38),
            camera_box([267.5, 185.0, 377.5, 295.0], "dog", 0.83),
        ];
        assert!((f64::from(camera[0].box_px.iou(&camera[1].box_px)) - 107.5 / 112.5).abs() < 1e-6);
        let projection = project_box(&lidar[0], &calibration(), 0.1).unwrap();
        let (iou_cat, iou_dog) = (projection.iou(&camera[0].box_px), projection.iou(&camera[1].box_px));
        assert!(iou_cat > iou_dog, "{iou_cat} vs {iou_dog}");
        let output = fusion.fuse(&lidar, &camera, &calibration());
        assert_eq!(output.objects[0].class_label, "dog");
        assert_eq!(output.objects[0].score, 0.83);
        assert_eq!(output.objects[0].source, ObjectSource::Fused);
        let matched = output.camera_matches[0].unwrap();
        assert_eq!(matched.camera_index, 1);
        // The association's IoU is the camera object's best one (the cat box's).
        assert!((matched.iou - iou_cat).abs() < 1e-6, "{matched:?}");
        // Both detections described the fused object: neither is left unmatched.
        assert!(output.unmatched_camera.is_empty(), "{:?}", output.unmatched_camera);

        // Two objects side by side stay two: each lidar box takes its own camera box.
        let lidar =
            [lidar_box([10.0, 0.0, 0.0], [2.0, 2.0, 2.0]), lidar_box([10.0, 3.0, 0.0], [2.0, 2.0, 2.0])];
        let left = project_box(&lidar[1], &calibration(), 0.1).unwrap();
        let camera = [
            camera_box([265.0, 185.0, 375.0, 295.0], "truck", 0.5),
            camera_box([left.x1, left.y1, left.x2, left.y2], "car", 0.9),
        ];
        let output = fusion.fuse(&lidar, &camera, &calibration());
        assert_eq!(output.objects[0].class_label, "truck");
        assert_eq!(output.objects[1].class_label, "car");
    }

    #[test]
    fn a_small_overlap_is_not_fused() {
        let mut fusion =
            CameraLidarFusion::new(FusionConfig { min_iou: 0.5, ..FusionConfig::default() }).unwrap();
        let lidar = [lidar_box([10.0, 0.0, 0.0], [2.0, 2.0, 2.0])];
        // Overlaps the right half of the projection only: IoU ≈ 0.33 < 0.5.
        let camera = [camera_box([320.0, 184.4, 431.1, 295.6], "truck", 0.8)];
        let output = fusion.fuse(&lidar, &camera, &calibration());
        assert_eq!(output.camera_matches, vec![None]);
        assert_eq!(output.objects[0].class_label, UNKNOWN_CLASS);
        assert_eq!(output.unmatched_camera, vec![0]);
    }

    #[test]
    fn lidar_objects_outside_a_lidar_frame_are_not_fused() {
        let mut fusion = CameraLidarFusion::new(FusionConfig::default()).unwrap();
        let mut object = lidar_box([10.0, 0.0, 0.0], [2.0, 2.0, 2.0]);
        object.header.frame = FrameId::Ego;
        let camera = [camera_box([265.0, 185.0, 375.0, 295.0], "truck", 0.8)];
        let output = fusion.fuse(&[object], &camera, &calibration());
        assert_eq!(output.projections_px, vec![None]);
        assert_eq!(output.unmatched_camera, vec![0]);
    }

    #[test]
    fn config_errors_name_the_dotted_key() {
        let err =
            CameraLidarFusion::new(FusionConfig { min_iou: 1.5, ..FusionConfig::default() }).unwrap_err();
        assert_eq!(err.key, "fusion.min_iou");
        let err = FusionConfig { min_depth_m: 0.0, ..FusionConfig::default() }.validate().unwrap_err();
        assert_eq!(err.key, "fusion.min_depth_m");
        let err = FusionConfig { min_iou: f64::NAN, ..FusionConfig::default() }.validate().unwrap_err();
        assert_eq!(err.key, "fusion.min_iou");
        let err = FusionConfig { same_object_iou: 0.0, ..FusionConfig::default() }.validate().unwrap_err();
        assert_eq!(err.key, "fusion.same_object_iou");
    }

    #[test]
    fn config_from_toml_uses_defaults_and_rejects_unknown_keys() {
        let config: FusionConfig = toml::from_str("min_iou = 0.5").unwrap();
        assert_eq!(config, FusionConfig { min_iou: 0.5, ..FusionConfig::default() });
        assert!(toml::from_str::<FusionConfig>("min_iou_typo = 0.5").is_err());
    }
}
