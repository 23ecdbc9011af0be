//! The fleet catalog: query time over many indexed episodes, in SQLite and in PostgreSQL (a
//! server started for the run, `testkit::postgres`), and the time to index one episode.
//!
//! `cargo bench -p pitsense-cloud-link --bench catalog` (env `PITSENSE_BENCH_CATALOG_EPISODES`,
//! default 10,000 synthetic indexes: 20 trucks, 30 days, seeded classes, health events and
//! areas; `PITSENSE_BENCH_INDEX_FRAMES`, default 600 frames = one minute at 10 Hz, of the test
//! episode with 6,000 points per scan). Prints the median and the slowest of 21 runs per query.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // Test/bench code: a failure should panic.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use pitsense_cloud_link::catalog::{Catalog, CatalogLocation, CatalogQuery, CatalogRow};
use pitsense_cloud_link::episode_index::{ClassSummary, EpisodeIndex, HealthEvent, SiteArea};

const DAY_NS: u64 = 86_400_000_000_000;
const CLASSES: [&str; 6] = ["person", "car", "truck", "bus", "bicycle", "unknown"];
const MODES: [&str; 4] = ["lidar_lost", "camera_lost", "v2x_lost", "ego_pose_lost"];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn synthetic_index(i: u64, rng: &mut common::Lcg) -> EpisodeIndex {
    let start_ns = common::START_NS + (rng.next_f32() as f64 * 30.0 * DAY_NS as f64) as u64;
    let mut classes = BTreeMap::new();
    for label in CLASSES {
        if rng.next_f32() < 0.4 {
            classes.insert(
                label.to_owned(),
                ClassSummary {
                    tracks: 1 + (rng.next_f32() * 20.0) as u64,
                    max_in_frame: 1 + (rng.next_f32() * 5.0) as u64,
                    min_range_m: Some(f64::from(rng.next_f32()) * 80.0),
                },
            );
        }
    }
    let health_events = MODES
        .iter()
        .filter(|_| rng.next_f32() < 0.05)
        .map(|mode| HealthEvent { stamp_ns: start_ns + 1, mode: (*mode).to_owned(), reason: String::new() })
        .collect();
    let x_m = 650_000.0 + f64::from(rng.next_f32()) * 5_000.0;
    let y_m = 7_430_000.0 + f64::from(rng.next_f32()) * 5_000.0;
    EpisodeIndex {
        truck_id: format!("truck-{:02}", i % 20),
        start_ns,
        end_ns: start_ns + 60_000_000_000,
        trigger_reason: if i.is_multiple_of(7) { "health: lidar_lost".into() } else { "periodic".into() },
        trigger_stamp_ns: start_ns,
        software_version: format!("0.{}.0", i % 3),
        model_sha256: format!("{:064x}", i % 4),
        classes,
        v2x_only_tracks: u64::from(rng.next_f32() < 0.1),
        health_events,
        site_area: Some(SiteArea { min_x_m: x_m, min_y_m: y_m, max_x_m: x_m + 300.0, max_y_m: y_m + 300.0 }),
        message_counts: BTreeMap::new(),
    }
}

fn time_query(catalog: &Catalog, name: &str, query: &CatalogQuery) {
    let mut runs_ms: Vec<f64> = (0..21)
        .map(|_| {
            let started = Instant::now();
            let hits = catalog.query(query).unwrap();
            std::hint::black_box(hits);
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    runs_ms.sort_by(f64::total_cmp);
    let hits = catalog.query(query).unwrap().len();
    println!("  {name:<52} {hits:>6} hits  median {:>8.2} ms  max {:>8.2} ms", runs_ms[10], runs_ms[20]);
}

fn main() {
    let episodes = env_u64("PITSENSE_BENCH_CATALOG_EPISODES", 10_000);
    let work = tempfile::tempdir().unwrap();
    let sqlite = CatalogLocation::Sqlite(work.path().join("catalog.sqlite"));
    fill_and_query("SQLite", &sqlite, episodes);
    match pitsense_testkit::postgres::PostgresServer::start() {
        Some(server) => fill_and_query("PostgreSQL", &CatalogLocation::Postgres(server.url()), episodes),
        None => println!("catalog (PostgreSQL): not measured (no server could start)"),
    }
    index_one_episode(work.path());
}

fn fill_and_query(name: &str, location: &CatalogLocation, episodes: u64) {
    let mut catalog = Catalog::open_at(location).unwrap();
    let mut rng = common::Lcg(7);
    let started = Instant::now();
    for i in 0..episodes {
        let index = synthetic_index(i, &mut rng);
        let sha256 = format!("{i:064x}");
        let row = CatalogRow {
            truck_id: index.truck_id.clone(),
            sha256: sha256.clone(),
            file_name: format!("episode-{i}.mcap"),
            store_path: format!("{}/episode-{i}.mcap", index.truck_id),
            size_bytes: 100_000_000,
            priority: "normal".into(),
            recorded_ns: index.start_ns,
            received_ns: index.end_ns,
        };
        catalog.insert(&row).unwrap();
        catalog.insert_index(&row.truck_id, &sha256, Ok(&index)).unwrap();
    }
    let insert_s = started.elapsed().as_secs_f64();
    println!(
        "catalog ({name}): {episodes} episodes indexed in {insert_s:.2} s ({:.2} ms each, one transaction each)",
        insert_s * 1e3 / episodes as f64
    );
    let query = |f: &dyn Fn(&mut CatalogQuery)| {
        let mut query = CatalogQuery::default();
        f(&mut query);
        query
    };
    time_query(&catalog, "everything", &CatalogQuery::default());
    time_query(&catalog, "--truck truck-03", &query(&|q| q.trucks = vec!["truck-03".into()]));
    time_query(
        &catalog,
        "--since/--until one day",
        &query(&|q| {
            q.since_ns = Some(common::START_NS + 10 * DAY_NS);
            q.until_ns = Some(common::START_NS + 11 * DAY_NS);
        }),
    );
    time_query(
        &catalog,
        "--class person --within-m 10",
        &query(&|q| {
            q.classes = vec!["person".into()];
            q.within_m = Some(10.0);
        }),
    );
    time_query(
        &catalog,
        "--class person --class truck --min-tracks 5",
        &query(&|q| {
            q.classes = vec!["person".into(), "truck".into()];
            q.min_tracks = 5;
        }),
    );
    time_query(&catalog, "--health-mode lidar_lost", &query(&|q| q.health_modes = vec!["lidar_lost".into()]));
    time_query(&catalog, "--v2x-only", &query(&|q| q.v2x_only = true));
    time_query(
        &catalog,
        "--area (1 km square)",
        &query(&|q| {
            q.area = Some(SiteArea {
                min_x_m: 651_000.0,
                min_y_m: 7_431_000.0,
                max_x_m: 652_000.0,
                max_y_m: 7_432_000.0,
            })
        }),
    );
    time_query(
        &catalog,
        "person within 15 m, lidar_lost, one week, one truck",
        &query(&|q| {
            q.trucks = vec!["truck-07".into()];
            q.since_ns = Some(common::START_NS);
            q.until_ns = Some(common::START_NS + 7 * DAY_NS);
            q.classes = vec!["person".into()];
            q.within_m = Some(15.0);
            q.health_modes = vec!["lidar_lost".into()];
        }),
    );
}

fn index_one_episode(work: &std::path::Path) {
    let frames = env_u64("PITSENSE_BENCH_INDEX_FRAMES", 600);
    let path = common::write_test_episode(work, "minute.mcap", 11, frames, 6000);
    let size_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    let mut runs_s: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(EpisodeIndex::of_file(&path).unwrap());
            started.elapsed().as_secs_f64()
        })
        .collect();
    runs_s.sort_by(f64::total_cmp);
    println!(
        "indexing one episode of {frames} frames ({size_mb:.1} MB, 6000 points per scan): median {:.3} s ({:.1} MB/s)",
        runs_s[2],
        size_mb / runs_s[2]
    );
}
