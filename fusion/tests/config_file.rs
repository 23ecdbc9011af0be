//! The `[tracker*]` sections of the shipped default configuration (`config/pitsense.toml`) stay in
//! sync with [`TrackerConfig::default`], and the tracker's TOML reading (per-class merging,
//! unknown keys, dotted keys in validation errors).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use pitsense_fusion::{
    AssociationMethod, AssociationMetric, ClassTrackerConfig, MotionModel, Tracker, TrackerConfig,
};

const DEFAULT_FILE: &str = include_str!("../../config/pitsense.toml");

/// The `[tracker]` table of the shipped file: from `[tracker]` to the next section that is not a
/// `[tracker.*]` one.
fn shipped_tracker_table() -> toml::Table {
    let start = DEFAULT_FILE.find("\n[tracker]").expect("no [tracker] section") + 1;
    let rest = &DEFAULT_FILE[start..];
    let end = rest
        .match_indices("\n[")
        .map(|(index, _)| index)
        .find(|&index| !rest[index + 1..].starts_with("[tracker"))
        .unwrap_or(rest.len());
    let mut document: toml::Table = toml::from_str(&rest[..end]).unwrap();
    let toml::Value::Table(tracker) = document.remove("tracker").unwrap() else {
        panic!("[tracker] is not a table")
    };
    tracker
}

#[test]
fn the_shipped_tracker_sections_are_the_default() {
    let parsed: TrackerConfig = toml::Value::Table(shipped_tracker_table()).try_into().unwrap();
    assert_eq!(parsed, TrackerConfig::default());
    // Every key of the default appears in the file (no key left to its built-in value).
    let serialised = toml::Table::try_from(TrackerConfig::default()).unwrap();
    assert_eq!(serialised, shipped_tracker_table());
}

#[test]
fn a_class_table_is_merged_over_its_built_in_table() {
    let config: TrackerConfig =
        toml::from_str("[classes.car]\nmin_hits = 2\n[classes.car.ctrv]\nmeas_yaw_std_rad = 0.1\n").unwrap();
    let car = &config.classes["car"];
    assert_eq!(car.min_hits, 2);
    assert_eq!(car.ctrv.meas_yaw_std_rad, 0.1);
    // The rest of the car table is AB3DMOT's, not the default class's.
    assert_eq!(car.metric, AssociationMetric::Giou3d);
    assert_eq!(car.min_similarity, -0.2);
    assert_eq!(car.ctrv.accel_psd_m2ps3, ClassTrackerConfig::kitti_car().ctrv.accel_psd_m2ps3);
    assert_eq!(config.classes["pedestrian"], ClassTrackerConfig::kitti_pedestrian());

    // A new label starts from the file's default table.
    let config: TrackerConfig = toml::from_str(
        "[classes.default]\nmax_distance_m = 5\n[classes.haul_truck]\nmotion_model = \"ctrv\"\n",
    )
    .unwrap();
    let truck = &config.classes["haul_truck"];
    assert_eq!(truck.motion_model, MotionModel::Ctrv);
    assert_eq!(truck.max_distance_m, 5.0);
    assert_eq!(truck.association, AssociationMethod::Hungarian);
    assert_eq!(config.class("Haul_Truck"), Some(truck));
    assert_eq!(config.class("bus"), config.classes.get("default"));
    assert!(Tracker::new(config).is_ok());
}

#[test]
fn unknown_keys_are_rejected_with_their_table() {
    assert!(toml::from_str::<TrackerConfig>("max_age = 3").is_err());
    // The old single-class keys moved under [tracker.classes.<label>].
    assert!(toml::from_str::<TrackerConfig>("min_hits = 3").is_err());
    let error = toml::from_str::<TrackerConfig>("[classes.car]\nq = 1.0").unwrap_err().to_string();
    assert!(error.contains("tracker.classes.car") && error.contains('q'), "{error}");
    let error = toml::from_str::<TrackerConfig>("[classes.car.cv]\nq = 1.0").unwrap_err().to_string();
    assert!(error.contains("tracker.classes.car"), "{error}");
    let error = toml::from_str::<TrackerConfig>("[classes.car]\nmetric = \"giou\"").unwrap_err().to_string();
    assert!(error.contains("giou"), "{error}");
}

#[test]
fn validation_errors_name_the_dotted_key() {
    let with_car = |change: fn(&mut ClassTrackerConfig)| {
        let mut config = TrackerConfig::default();
        change(config.classes.get_mut("car").unwrap());
        Tracker::new(config).unwrap_err().key
    };
    assert_eq!(with_car(|c| c.min_similarity = 1.5), "tracker.classes.car.min_similarity");
    assert_eq!(with_car(|c| c.max_distance_m = -1.0), "tracker.classes.car.max_distance_m");
    assert_eq!(with_car(|c| c.mahalanobis_gate_sq = f64::NAN), "tracker.classes.car.mahalanobis_gate_sq");
    assert_eq!(
        with_car(|c| c.metric = AssociationMetric::Mahalanobis),
        "tracker.classes.car.mahalanobis_gate_sq"
    );
    assert_eq!(with_car(|c| c.min_hits = 0), "tracker.classes.car.min_hits");
    assert_eq!(with_car(|c| c.max_age_frames = 5000), "tracker.classes.car.max_age_frames");
    assert_eq!(with_car(|c| c.birth_score = 1.5), "tracker.classes.car.birth_score");
    assert_eq!(with_car(|c| c.confirm_score = -0.1), "tracker.classes.car.confirm_score");
    assert_eq!(
        with_car(|c| c.score_decay_per_missed_frame = f64::NAN),
        "tracker.classes.car.score_decay_per_missed_frame"
    );
    assert_eq!(with_car(|c| c.cv.accel_psd_xy_m2ps3 = 0.0), "tracker.classes.car.cv.accel_psd_xy_m2ps3");
    assert_eq!(
        with_car(|c| c.ctrv.init_yaw_rate_std_radps = -1.0),
        "tracker.classes.car.ctrv.init_yaw_rate_std_radps"
    );

    let mut config = TrackerConfig::default();
    let car = config.classes.remove("car").unwrap();
    config.classes.insert("Car".into(), car);
    assert_eq!(Tracker::new(config).unwrap_err().key, "tracker.classes.Car");
    let mut config = TrackerConfig::default();
    config.classes.remove("default");
    assert_eq!(Tracker::new(config).unwrap_err().key, "tracker.classes");
    assert!(Tracker::new(TrackerConfig::default()).is_ok());
}
