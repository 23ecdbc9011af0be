//! The fleet catalog: each episode's index (time, trigger, versions, classes, V2X-only objects,
//! health events, site area) built from a real episode file, checked against hand-computed
//! values and against an independent reading with the `mcap` PyPI package; queries on every
//! filter; the ingest indexing what lands; `pitsense-ingest query` and `reindex` as a user runs
//! them, bad input included.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use pitsense_cloud_link::catalog::{CatalogQuery, parse_utc_ns};
use pitsense_cloud_link::episode_index::{EpisodeIndex, SiteArea};
use pitsense_cloud_link::ingest::{Catalog, CatalogLocation, CatalogRow, Store};
use pitsense_cloud_link::{EpisodeMessage, EpisodeMetadata, EpisodeWriter, RecordedEgo};
use pitsense_types::nalgebra::{Isometry3, Matrix6, Point3, Translation3, UnitQuaternion, Vector3};
use pitsense_types::{
    DegradedMode, EgoState, FrameId, Header, HealthReport, ObjectSource, Track, TrackState,
};

/// 2026-11-29T10:00:00Z.
const START_NS: u64 = 1_795_946_400_000_000_000;
const FRAME_NS: u64 = 100_000_000;

fn track(stamp_ns: u64, frame: FrameId, id: u64, label: &str, source: ObjectSource, at: [f64; 3]) -> Track {
    let header = Header { stamp_ns, frame, seq: 0 };
    Track {
        header,
        track_id: id,
        state: TrackState {
            center_m: Point3::new(at[0], at[1], at[2]),
            velocity_mps: Vector3::zeros(),
            yaw_rad: 0.0,
            size_m: Vector3::new(1.0, 1.0, 1.8),
        },
        covariance: Matrix6::identity(),
        class_label: label.into(),
        score: 0.9,
        age_frames: 1,
        hits: 1,
        frames_since_update: 0,
        source,
    }
}

fn ego(stamp_ns: u64, x_m: f64, y_m: f64, yaw_rad: f64, pose_held: bool) -> EpisodeMessage {
    EpisodeMessage::Ego(RecordedEgo {
        ego: EgoState {
            header: Header { stamp_ns, frame: FrameId::Site, seq: 0 },
            site_from_truck: Isometry3::from_parts(
                Translation3::new(x_m, y_m, 310.0),
                UnitQuaternion::from_euler_angles(0.0, 0.0, yaw_rad),
            ),
            speed_mps: 4.0,
            yaw_rate_radps: 0.0,
            accel_mps2: 0.0,
        },
        pose_held,
    })
}

fn health(stamp_ns: u64, mode: DegradedMode, reason: &str) -> EpisodeMessage {
    EpisodeMessage::Health(HealthReport {
        stamp_ns,
        mode,
        reason: reason.into(),
        inputs: BTreeMap::new(),
        late_frames: 0,
        dropped: BTreeMap::new(),
    })
}

/// The hand-built episode the index is checked on (times are `START_NS` + frame × 100 ms):
///
/// - ego (site frame, UTM-scale): frame 0 at (652000, 7432000) heading 90°, then 1 m east per
///   frame to frame 4 at (652004, 7432000); a held pose at frame 5 at (0, 0) (left out of the area);
/// - tracks in the site frame: person #1 at (652000, 7432012) in frame 0 (12 m north of the
///   truck: range 12), at (652003, 7432004) in frame 3 (truck at 652003: range 4); track #2 is
///   `unknown` in frame 0 and `truck` from frame 1 (its last label: truck); track #3 is V2X only
///   (a person behind a berm, 30 m away: (652030, 7432000) at frame 1, truck at 652001: range 29);
///   track #4 is V2X in frame 1, fused in frame 2 (not V2X only);
/// - tracks in the `lidar0` frame (truck_from_lidar x = 2 m): a `person` #5 at (3, 4, 0) in frame 4:
///   (5, 4) in the truck frame, range √41;
/// - health: lidar_lost at frame 2, nominal at frame 4.
fn write_episode(path: &Path, metadata: &EpisodeMetadata) {
    let mut writer = EpisodeWriter::create(path, metadata, Default::default()).unwrap();
    let at = |frame: u64| START_NS + frame * FRAME_NS;
    let site = FrameId::Site;
    let east = std::f64::consts::FRAC_PI_2;
    for frame in 0..5 {
        writer.write(&ego(at(frame), 652_000.0 + frame as f64, 7_432_000.0, east, false)).unwrap();
    }
    writer.write(&ego(at(5), 0.0, 0.0, 0.0, true)).unwrap();
    let frames: [Vec<Track>; 5] = [
        vec![
            track(at(0), site, 1, "person", ObjectSource::Fused, [652_000.0, 7_432_012.0, 311.0]),
            track(at(0), site, 2, "unknown", ObjectSource::Lidar, [652_020.0, 7_432_000.0, 312.0]),
        ],
        vec![
            track(at(1), site, 2, "truck", ObjectSource::Fused, [652_020.0, 7_432_000.0, 312.0]),
            track(at(1), site, 3, "person", ObjectSource::V2x, [652_030.0, 7_432_000.0, 311.0]),
            track(at(1), site, 4, "car", ObjectSource::V2x, [652_041.0, 7_432_000.0, 311.0]),
        ],
        vec![
            track(at(2), site, 3, "person", ObjectSource::V2x, [652_030.0, 7_432_000.0, 311.0]),
            track(at(2), site, 4, "car", ObjectSource::Fused, [652_041.0, 7_432_000.0, 311.0]),
        ],
        vec![track(at(3), site, 1, "person", ObjectSource::Fused, [652_003.0, 7_432_004.0, 311.0])],
        vec![track(at(4), FrameId::Lidar(0), 5, "person", ObjectSource::Lidar, [3.0, 4.0, 0.0])],
    ];
    for tracks in frames {
        let header = tracks[0].header;
        writer.write(&EpisodeMessage::Tracks { header, tracks }).unwrap();
    }
    writer.write(&health(at(2), DegradedMode::LidarLost, "lidar: stale (last message 310 ms ago)")).unwrap();
    writer.write(&health(at(4), DegradedMode::Nominal, "")).unwrap();
    writer.finish().unwrap();
}

fn metadata(truck_id: &str, trigger_reason: &str) -> EpisodeMetadata {
    EpisodeMetadata {
        truck_id: truck_id.into(),
        software_version: "0.4.0".into(),
        calibration_json: String::new(),
        truck_from_lidar_json:
            r#"{"x_m":2.0,"y_m":0.0,"z_m":3.0,"roll_rad":0.0,"pitch_rad":0.0,"yaw_rad":0.0}"#.into(),
        model_sha256: "c0ffee".repeat(10) + "abcd",
        trigger_reason: trigger_reason.into(),
        trigger_stamp_ns: START_NS + 2 * FRAME_NS,
    }
}

/// The hand-built episode of truck-07 with `trigger_reason`, written in a fresh folder (kept
/// while the first value lives), and its index.
fn indexed_episode(trigger_reason: &str) -> (tempfile::TempDir, std::path::PathBuf, EpisodeIndex) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.mcap");
    write_episode(&path, &metadata("truck-07", trigger_reason));
    let index = EpisodeIndex::of_file(&path).unwrap();
    (dir, path, index)
}

#[test]
fn the_index_holds_the_hand_computed_values() {
    let (_dir, _, index) = indexed_episode("health: lidar_lost: lidar: stale");
    assert_eq!(index.truck_id, "truck-07");
    assert_eq!((index.start_ns, index.end_ns), (START_NS, START_NS + 5 * FRAME_NS));
    assert_eq!(index.trigger_reason, "health: lidar_lost: lidar: stale");
    assert_eq!(index.trigger_stamp_ns, START_NS + 2 * FRAME_NS);
    assert_eq!(index.software_version, "0.4.0");
    assert_eq!(index.model_sha256, "c0ffee".repeat(10) + "abcd");
    let classes: Vec<(&str, u64, u64)> =
        index.classes.iter().map(|(label, c)| (label.as_str(), c.tracks, c.max_in_frame)).collect();
    // Last labels: #1, #3, #5 person; #2 truck; #4 car. `unknown` was seen (#2 in frame 0) but
    // no track ended with it.
    assert_eq!(classes, [("car", 1, 1), ("person", 3, 1), ("truck", 1, 1), ("unknown", 0, 1)]);
    let range = |label: &str| index.classes[label].min_range_m.unwrap();
    assert!((range("person") - 4.0).abs() < 1e-6, "{}", range("person"));
    // #4 car: 41 m east of the truck at 652001 (frame 1) → 40; at 652002 (frame 2) → 39.
    assert!((range("car") - 39.0).abs() < 1e-6, "{}", range("car"));
    // #2: 20 m east with the truck at 652000 (frame 0, `unknown`), 652001 (frame 1, truck).
    assert!((range("unknown") - 20.0).abs() < 1e-6);
    assert!((range("truck") - 19.0).abs() < 1e-6);
    assert_eq!(index.v2x_only_tracks, 1);
    let events: Vec<(u64, &str)> =
        index.health_events.iter().map(|e| (e.stamp_ns - START_NS, e.mode.as_str())).collect();
    assert_eq!(events, [(2 * FRAME_NS, "lidar_lost"), (4 * FRAME_NS, "nominal")]);
    assert_eq!(index.health_events[0].reason, "lidar: stale (last message 310 ms ago)");
    assert_eq!(
        index.site_area,
        Some(SiteArea { min_x_m: 652_000.0, min_y_m: 7_432_000.0, max_x_m: 652_004.0, max_y_m: 7_432_000.0 })
    );
    assert_eq!(index.message_counts["/tracks"], 5);
    assert_eq!(index.message_counts["/health"], 2);
}

#[test]
fn a_lidar_frame_track_is_placed_by_the_episodes_truck_from_lidar() {
    let range_with_mount = |truck_from_lidar_json: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.mcap");
        let metadata = EpisodeMetadata {
            truck_from_lidar_json: truck_from_lidar_json.into(),
            ..metadata("truck-07", "manual")
        };
        let mut writer = EpisodeWriter::create(&path, &metadata, Default::default()).unwrap();
        let person = track(START_NS, FrameId::Lidar(0), 9, "person", ObjectSource::Lidar, [3.0, 4.0, 0.0]);
        writer.write(&EpisodeMessage::Tracks { header: person.header, tracks: vec![person] }).unwrap();
        writer.finish().unwrap();
        let index = EpisodeIndex::of_file(&path).unwrap();
        assert_eq!(index.site_area, None);
        assert!(index.health_events.is_empty());
        index.classes["person"].min_range_m.unwrap()
    };
    // Without a mount, the lidar frame is taken as the truck frame: (3, 4) → 5 m.
    assert!((range_with_mount("") - 5.0).abs() < 1e-9);
    // The lidar 2 m ahead of the truck origin: (5, 4) → √41.
    let ahead = r#"{"x_m":2.0,"y_m":0.0,"z_m":3.0,"roll_rad":0.0,"pitch_rad":0.0,"yaw_rad":0.0}"#;
    assert!((range_with_mount(ahead) - 41.0_f64.sqrt()).abs() < 1e-9);
    // Turned 90° left: lidar (3, 4) is truck (2 − 4, 3) → √13.
    let turned =
        r#"{"x_m":2.0,"y_m":0.0,"z_m":3.0,"roll_rad":0.0,"pitch_rad":0.0,"yaw_rad":1.5707963267948966}"#;
    assert!((range_with_mount(turned) - 13.0_f64.sqrt()).abs() < 1e-9);
}

/// The index's aggregates computed again by an independent reader: the `mcap` PyPI package
/// reads the file, `mcap-protobuf-support` decodes its messages from the descriptors in it, and
/// the script derives start/end, last label per track, V2X-only tracks, the health modes and
/// the area.
#[test]
fn the_index_agrees_with_the_python_mcap_reader() {
    let (_dir, path, index) = indexed_episode("manual");
    let script = format!(
        "{}{}",
        pitsense_testkit::PYTHON_EPISODE_MESSAGES,
        r#"
import json, sys
from mcap.reader import make_reader
start = end = None
last_label, only_v2x, modes, xs, ys = {}, {}, [], [], []
with open(sys.argv[1], "rb") as f:
    meta = {}
    for record in make_reader(f).iter_metadata():
        meta.update(record.metadata)
for topic, log_time, schema, body in episode_messages(sys.argv[1]):
    start = log_time if start is None else min(start, log_time)
    end = log_time if end is None else max(end, log_time)
    if topic == "/tracks":
        for entity in body["entities"]:
            kv = {m["key"]: m["value"] for m in entity["metadata"]}
            tid = int(kv["track_id"])
            last_label[tid] = kv["class"]
            only_v2x[tid] = only_v2x.get(tid, True) and kv["source"] == "v2x"
    elif topic == "/health":
        modes.append(body["mode"])
    elif topic == "/ego/state" and not body["pose_held"]:
        t = body["site_from_truck"]
        xs.append(t["x_m"]); ys.append(t["y_m"])
classes = {}
for label in last_label.values():
    classes[label] = classes.get(label, 0) + 1
print(json.dumps({"truck_id": meta["truck_id"], "start": start, "end": end, "classes": classes,
    "v2x_only": sum(only_v2x.values()), "modes": modes,
    "area": [min(xs), min(ys), max(xs), max(ys)]}))
"#
    );
    let output = Command::new(pitsense_testkit::reference_python())
        .arg("-c")
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "python mcap: {}", String::from_utf8_lossy(&output.stderr));
    let python: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(python["truck_id"], index.truck_id.as_str());
    assert_eq!(python["start"].as_u64(), Some(index.start_ns));
    assert_eq!(python["end"].as_u64(), Some(index.end_ns));
    let ours: BTreeMap<String, u64> = index
        .classes
        .iter()
        .filter(|(_, c)| c.tracks > 0)
        .map(|(label, c)| (label.clone(), c.tracks))
        .collect();
    let theirs: BTreeMap<String, u64> = serde_json::from_value(python["classes"].clone()).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(python["v2x_only"].as_u64(), Some(index.v2x_only_tracks));
    let modes: Vec<String> = serde_json::from_value(python["modes"].clone()).unwrap();
    assert_eq!(modes, index.health_events.iter().map(|e| e.mode.clone()).collect::<Vec<_>>());
    let area = index.site_area.unwrap();
    let theirs: Vec<f64> = serde_json::from_value(python["area"].clone()).unwrap();
    assert_eq!(theirs, [area.min_x_m, area.min_y_m, area.max_x_m, area.max_y_m]);
}

/// Three stored episodes in a real store folder, catalogued and indexed as the ingest does.
struct Fleet {
    dir: tempfile::TempDir,
}

impl Fleet {
    fn store(&self) -> &Path {
        self.dir.path()
    }
}

fn catalogue(
    store: &mut Store,
    store_dir: &Path,
    name: &str,
    metadata: &EpisodeMetadata,
    write: impl Fn(&Path),
) {
    let relative = format!("{}/2026-11-29/{name}.mcap", metadata.truck_id);
    let path = store_dir.join(&relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write(&path);
    let sha256 = pitsense_cloud_link::sha256::of_file(&path).unwrap();
    let size_bytes = std::fs::metadata(&path).unwrap().len();
    let row = CatalogRow {
        truck_id: metadata.truck_id.clone(),
        sha256: sha256.clone(),
        file_name: format!("{name}.mcap"),
        store_path: relative.clone(),
        size_bytes,
        priority: "normal".into(),
        recorded_ns: START_NS,
        received_ns: START_NS + 3_600_000_000_000,
    };
    assert!(store.catalog().insert(&row).unwrap());
    assert_eq!(store.index_episode(&row.truck_id, &sha256, &relative).unwrap(), None);
}

/// `a` (truck-07): the hand-built episode (persons within 4 m, lidar_lost, V2X-only person);
/// `b` (truck-09): one car in the ego frame 30 m ahead, an hour later, far away in the site;
/// `c` (truck-07): not an MCAP at all (kept, not indexed).
fn fleet() -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let location = CatalogLocation::Sqlite(dir.path().join("catalog.sqlite"));
    fleet_in(dir, &location)
}

/// [`fleet`] with its catalog at `location`.
fn fleet_in(dir: tempfile::TempDir, location: &CatalogLocation) -> Fleet {
    let mut store = Store::open_with_catalog(dir.path(), location).unwrap();
    catalogue(&mut store, dir.path(), "a", &metadata("truck-07", "health: lidar_lost"), |path| {
        write_episode(path, &metadata("truck-07", "health: lidar_lost"))
    });
    let b = EpisodeMetadata { software_version: "0.5.0".into(), ..metadata("truck-09", "periodic") };
    catalogue(&mut store, dir.path(), "b", &b, |path| {
        let mut writer = EpisodeWriter::create(path, &b, Default::default()).unwrap();
        let later = START_NS + 3_600_000_000_000;
        writer.write(&ego(later, 10.0, 20.0, 0.0, false)).unwrap();
        let car = track(later, FrameId::Ego, 1, "car", ObjectSource::Fused, [30.0, 0.0, 1.0]);
        writer.write(&EpisodeMessage::Tracks { header: car.header, tracks: vec![car] }).unwrap();
        writer.finish().unwrap();
    });
    let relative = "truck-07/2026-11-29/c.mcap";
    std::fs::write(dir.path().join(relative), b"this is not an episode").unwrap();
    let row = CatalogRow {
        truck_id: "truck-07".into(),
        sha256: "c".repeat(64),
        file_name: "c.mcap".into(),
        store_path: relative.into(),
        size_bytes: 22,
        priority: "normal".into(),
        recorded_ns: START_NS - 1,
        received_ns: START_NS,
    };
    store.catalog().insert(&row).unwrap();
    let reason = store.index_episode("truck-07", &"c".repeat(64), relative).unwrap().unwrap();
    assert!(reason.contains("c.mcap") && reason.contains("MCAP magic"), "{reason}");
    Fleet { dir }
}

fn names(catalog: &Catalog, query: &CatalogQuery) -> Vec<String> {
    catalog
        .query(query)
        .unwrap()
        .into_iter()
        .map(|hit| hit.row.file_name.trim_end_matches(".mcap").to_owned())
        .collect()
}

#[test]
fn every_filter_selects_what_it_names() {
    let fleet = fleet();
    every_filter_selects_what_it_names_in(&Catalog::open(&fleet.store().join("catalog.sqlite")).unwrap());
}

/// The same catalog, store and queries with the catalog in a real PostgreSQL server (Debian's
/// `postgresql`, started for the test): the same answers.
#[test]
fn every_filter_selects_what_it_names_in_postgresql() {
    let Some(server) = pitsense_testkit::postgres::PostgresServer::start() else { return };
    let location = CatalogLocation::Postgres(server.url());
    let fleet = fleet_in(tempfile::tempdir().unwrap(), &location);
    every_filter_selects_what_it_names_in(&Catalog::open_at(&location).unwrap());
    // The command line with --catalog: the same episode.
    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["query", "--store"])
        .arg(fleet.store())
        .args(["--catalog", &server.url(), "--class", "person", "--within-m", "15", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("\"store_path\":\"truck-07/2026-11-29/a.mcap\""), "{stdout}");
    // A second ingest with its own (empty) store folder shares the catalog: re-indexing
    // everything from there leaves the first store's episodes as they are.
    let other_store = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["reindex", "--all", "--store"])
        .arg(other_store.path())
        .args(["--catalog", &server.url()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 episodes indexed, 3 could not be"), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("not in this store"));
    every_filter_selects_what_it_names_in(&Catalog::open_at(&location).unwrap());
}

/// A PostgreSQL catalog that cannot be reached is an error naming it (without its password)
/// and the reason, from the library and from the command line.
#[test]
fn an_unreachable_postgresql_is_named_with_the_reason() {
    // Nothing listens on loopback port 1.
    let url = "postgres://fleet:s3cret@127.0.0.1:1/catalog";
    let error = Catalog::open_at(&CatalogLocation::Postgres(url.into())).err().unwrap().to_string();
    assert!(error.contains("postgres://fleet@127.0.0.1:1/catalog") && !error.contains("s3cret"), "{error}");
    assert!(error.to_lowercase().contains("refused"), "{error}");
    let store = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["query", "--store"])
        .arg(store.path())
        .args(["--catalog", url])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("postgres://fleet@127.0.0.1:1/catalog") && !stderr.contains("s3cret"),
        "{stderr}"
    );
}

fn every_filter_selects_what_it_names_in(catalog: &Catalog) {
    let all = CatalogQuery::default();
    // No filter: every episode, the unindexed one too (sorted by start: c was recorded first).
    assert_eq!(names(catalog, &all), ["c", "a", "b"]);
    let hits = catalog.query(&all).unwrap();
    assert!(hits[0].index.is_none() && hits[0].index_error.as_deref().unwrap().contains("MCAP magic"));
    assert_eq!(hits[1].index.as_ref().unwrap().v2x_only_tracks, 1);
    let q = |f: &dyn Fn(&mut CatalogQuery)| {
        let mut query = CatalogQuery::default();
        f(&mut query);
        names(catalog, &query)
    };
    assert_eq!(q(&|q| q.trucks = vec!["truck-09".into()]), ["b"]);
    assert_eq!(q(&|q| q.trucks = vec!["truck-07".into()]), ["c", "a"]);
    assert_eq!(q(&|q| q.trucks = vec!["truck-07".into(), "truck-09".into()]), ["c", "a", "b"]);
    // a spans START..START+0.5 s; b is at START+1 h.
    assert_eq!(q(&|q| q.since_ns = Some(START_NS + 5 * FRAME_NS)), ["a", "b"]);
    assert_eq!(q(&|q| q.since_ns = Some(START_NS + 5 * FRAME_NS + 1)), ["b"]);
    assert_eq!(q(&|q| q.until_ns = Some(START_NS + 1)), ["a"]);
    assert_eq!(q(&|q| q.until_ns = Some(START_NS)), Vec::<String>::new());
    assert_eq!(q(&|q| q.trigger_contains = Some("lidar_lost".into())), ["a"]);
    assert_eq!(q(&|q| q.trigger_contains = Some("periodic".into())), ["b"]);
    assert_eq!(q(&|q| q.software_version = Some("0.5.0".into())), ["b"]);
    assert_eq!(q(&|q| q.model_sha256_prefix = Some("C0FFEE".into())), ["a", "b"]);
    assert_eq!(q(&|q| q.model_sha256_prefix = Some("beef".into())), Vec::<String>::new());
    assert_eq!(q(&|q| q.classes = vec!["person".into()]), ["a"]);
    assert_eq!(q(&|q| q.classes = vec!["car".into()]), ["a", "b"]);
    assert_eq!(q(&|q| q.classes = vec!["car".into(), "person".into()]), ["a"]);
    assert_eq!(
        q(&|q| {
            q.classes = vec!["person".into()];
            q.min_tracks = 3;
        }),
        ["a"]
    );
    assert_eq!(
        q(&|q| {
            q.classes = vec!["person".into()];
            q.min_tracks = 4;
        }),
        Vec::<String>::new()
    );
    // A person within 4 m (the closest was 4.0 m); within 3.9 m there is none.
    let near = |within_m: f64| {
        q(&|q| {
            q.classes = vec!["person".into()];
            q.within_m = Some(within_m);
        })
    };
    assert_eq!(near(4.0 + 1e-6), ["a"]);
    assert!(near(3.9).is_empty());
    // Any class within 30 m: a (person 4 m) and b (car 30 m).
    assert_eq!(q(&|q| q.within_m = Some(30.0)), ["a", "b"]);
    assert_eq!(q(&|q| q.v2x_only = true), ["a"]);
    assert_eq!(q(&|q| q.health_modes = vec!["lidar_lost".into()]), ["a"]);
    assert_eq!(q(&|q| q.health_modes = vec!["camera_lost".into()]), Vec::<String>::new());
    let area = |min_x_m, min_y_m, max_x_m, max_y_m| SiteArea { min_x_m, min_y_m, max_x_m, max_y_m };
    assert_eq!(q(&|q| q.area = Some(area(652_004.0, 7_431_000.0, 653_000.0, 7_432_000.0))), ["a"]);
    assert_eq!(
        q(&|q| q.area = Some(area(652_004.5, 7_431_000.0, 653_000.0, 7_432_000.0))),
        Vec::<String>::new()
    );
    assert_eq!(q(&|q| q.area = Some(area(0.0, 0.0, 100.0, 100.0))), ["b"]);
    assert_eq!(q(&|q| q.limit = Some(2)), ["c", "a"]);
    // Every filter together.
    assert_eq!(
        q(&|q| {
            q.trucks = vec!["truck-07".into()];
            q.since_ns = Some(START_NS);
            q.classes = vec!["person".into()];
            q.within_m = Some(15.0);
            q.v2x_only = true;
            q.health_modes = vec!["lidar_lost".into(), "nominal".into()];
            q.trigger_contains = Some("health".into());
        }),
        ["a"]
    );
}

#[test]
fn reindex_fills_the_index_of_a_catalog_from_before_it() {
    let fleet = fleet();
    let catalog_path = fleet.store().join("catalog.sqlite");
    // A catalog from before the index: the index tables dropped.
    drop_index_tables(&catalog_path);
    let catalog = Catalog::open(&catalog_path).unwrap();
    assert_eq!(catalog.unindexed().unwrap().len(), 3);
    let person = CatalogQuery { classes: vec!["person".into()], ..CatalogQuery::default() };
    assert!(names(&catalog, &person).is_empty());
    let output = ingest_cli(&["reindex", "--store"], fleet.store());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 episodes indexed, 1 could not be"), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("c.mcap"));
    assert_eq!(names(&catalog, &person), ["a"]);
    assert!(catalog.unindexed().unwrap().is_empty());
}

/// Drops the index tables with the `sqlite3` module of the reference Python (an independent
/// SQLite client): what a catalog written before the index looks like.
fn drop_index_tables(catalog: &Path) {
    let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n\
                  [c.execute(f'DROP TABLE {t}') for t in ('episode_index', 'episode_classes', 'episode_health')]\n\
                  c.commit()\n";
    let output = Command::new(pitsense_testkit::reference_python())
        .arg("-c")
        .arg(script)
        .arg(catalog)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn ingest_cli(args: &[&str], store: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pitsense-ingest")).args(args).arg(store).output().unwrap()
}

#[test]
fn query_on_the_command_line_prints_rows_and_json() {
    let fleet = fleet();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
            .args(["query", "--store"])
            .arg(fleet.store())
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["--class", "person", "--within-m", "15", "--health-mode", "lidar_lost"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[1].starts_with("truck-07") && lines[1].contains("2026-11-29T10:00:00Z"), "{table}");
    assert!(lines[1].contains("person:3") && lines[1].contains("lidar_lost,nominal"), "{table}");
    assert!(lines[1].ends_with("truck-07/2026-11-29/a.mcap"), "{table}");
    assert_eq!(lines[2], "1 episodes");

    let output = run(&["--since", "2026-11-29T10:30", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let hits: Vec<serde_json::Value> =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["truck_id"], "truck-09");
    assert_eq!(hits[0]["index"]["software_version"], "0.5.0");
    assert_eq!(hits[0]["index"]["classes"]["car"]["min_range_m"], 30.0);
    assert_eq!(hits[0]["index"]["start_ns"].as_u64(), Some(parse_utc_ns("2026-11-29T11:00Z").unwrap()));
}

#[test]
fn bad_queries_name_the_field_and_the_reason() {
    let fleet = fleet();
    let run = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
            .args(["query", "--store"])
            .arg(fleet.store())
            .args(extra)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{extra:?} was accepted");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(run(&["--colour", "red"]).contains("--colour"));
    let bad_mode = run(&["--health-mode", "dusty"]);
    assert!(bad_mode.contains("dusty") && bad_mode.contains("lidar_lost"), "{bad_mode}");
    let bad_time = run(&["--since", "2026-02-30"]);
    assert!(bad_time.contains("--since") && bad_time.contains("2026-02-30"), "{bad_time}");
    let bad_area = run(&["--area", "1,2,0,4"]);
    assert!(bad_area.contains("--area") && bad_area.contains("MIN <= MAX"), "{bad_area}");
    assert!(run(&["--within-m=-3"]).contains("--within-m -3: give a range >= 0 m"));
    // Found by a helper trying to break the tool: a date past u64 ns (2554) overflowed and
    // panicked; flags that would be ignored or select nothing are refused.
    let far = run(&["--since", "9999-12-31"]);
    assert!(far.contains("--since") && far.contains("2554") && !far.contains("panicked"), "{far}");
    assert!(run(&["--min-tracks", "5"]).contains("--class"));
    assert!(run(&["--model", "zz"]).contains("hex"));
    assert!(
        run(&["--since", "2026-12-01", "--until", "2026-11-01"]).contains("--since is not before --until")
    );
    assert!(run(&["--limit", "9223372036854775808"]).contains("--limit"));
    let typo = run(&["--catalog", "/nonexistent/catalog.sqlite"]);
    assert!(typo.contains("/nonexistent/catalog.sqlite") && typo.contains("no such catalog"), "{typo}");
    assert!(run(&["--catalog", ""]).contains("no such catalog"));
    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["query", "--store", "/nonexistent/store"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("/nonexistent/store/catalog.sqlite: no catalog")
    );
}

/// `pitsense-ingest query | head`: the reader closes the pipe; the tool ends quietly (it
/// panicked with "failed printing to stdout" before).
#[test]
fn a_closed_output_pipe_ends_the_query_quietly() {
    let fleet = fleet();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["query", "--json", "--store"])
        .arg(fleet.store())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && !stderr.contains("panicked"), "{:?}: {stderr}", output.status);
}

/// A training set is never written into the episode store.
#[test]
fn export_into_the_store_is_refused() {
    let fleet = fleet();
    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["export", "--format", "yolo", "--store"])
        .arg(fleet.store())
        .arg("--out")
        .arg(fleet.store().join("trainset"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("inside the episode store"));
}
