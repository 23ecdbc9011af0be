//! The lidar obstacle pipeline on KITTI 000000 (115,384 points, HDL-64E) on one thread.
//!
//! `cargo bench -p pitsense-perception --bench lidar_pipeline`. Data root: `$PITSENSE_DATA`,
//! default `../shared/data` next to the workspace; without the scan the benchmark says so and
//! measures nothing.
//!
//! - `lidar_pipeline/default`: [`LidarPipeline::process`] with the default configuration
//!   (filter, ground, clustering, boxes; deskew, dust filter and voxel downsampling off). This
//!   is the number the 10 ms target is about.
//! - `lidar_pipeline/{dust_on,voxel_on,deskew}`: the same with the dust filter on, with voxel
//!   downsampling on, and with an ego state (15 m/s, 0.2 rad/s: deskew from the azimuth model).
//! - `lidar_steps/*`: each step alone on the input the pipeline gives it (the filtered points
//!   for deskew and ground, the obstacle points for dust, voxel and clustering, the clusters
//!   for the boxes). `filter` replays the pipeline's filter loop (finite, 3D range).

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pitsense_perception::kitti::read_velodyne_bin;
use pitsense_perception::lidar::deskew::deskew_points;
use pitsense_perception::lidar::{
    DustFilter, EgoMotion, GridClusterer, GroundSegmenter, LidarConfig, LidarPipeline, PointTimes,
    RectangleFitter, VoxelDownsampler,
};
use pitsense_testkit::data_root;
use pitsense_types::nalgebra::Isometry3;
use pitsense_types::{EgoState, FrameId, Header, PointCloud, PointXyzi};

fn load_scan() -> Option<PointCloud> {
    let path = data_root().join("kitti/object/training/velodyne/000000.bin");
    let header = Header { stamp_ns: 0, frame: FrameId::Lidar(0), seq: 0 };
    read_velodyne_bin(&path, header).map_err(|error| eprintln!("lidar_pipeline bench: {error}; skipped")).ok()
}

fn ego() -> EgoState {
    EgoState {
        header: Header { stamp_ns: 0, frame: FrameId::Site, seq: 0 },
        site_from_truck: Isometry3::identity(),
        speed_mps: 15.0,
        yaw_rate_radps: 0.2,
        accel_mps2: 0.0,
    }
}

/// The pipeline's filter loop: finite points within `min_range_m..=max_range_m` (3D).
fn filter(points: &[PointXyzi], config: &LidarConfig, kept: &mut Vec<PointXyzi>) {
    kept.clear();
    let (min, max) = (config.min_range_m as f32, config.max_range_m as f32);
    let (min_sq, max_sq) = (min * min, max * max);
    kept.extend(points.iter().filter(|p| {
        p.is_finite() && (min_sq..=max_sq).contains(&(p.x_m * p.x_m + p.y_m * p.y_m + p.z_m * p.z_m))
    }));
}

fn whole_pipeline(c: &mut Criterion) {
    let Some(cloud) = load_scan() else { return };
    let mut group = c.benchmark_group("lidar_pipeline");
    let mut dust_on = LidarConfig::default();
    dust_on.dust.enabled = true;
    let mut voxel_on = LidarConfig::default();
    voxel_on.voxel.enabled = true;
    for (name, config) in [("default", LidarConfig::default()), ("dust_on", dust_on), ("voxel_on", voxel_on)]
    {
        let Ok(mut pipeline) = LidarPipeline::new(config) else { return };
        group.bench_function(name, |b| b.iter(|| black_box(pipeline.process(black_box(&cloud)))));
    }
    let Ok(mut pipeline) = LidarPipeline::new(LidarConfig::default()) else { return };
    let ego = ego();
    group.bench_function("deskew", |b| {
        b.iter(|| black_box(pipeline.process_with_ego(black_box(&cloud), &ego)))
    });
    group.finish();
}

fn steps(c: &mut Criterion) {
    let Some(cloud) = load_scan() else { return };
    let config = LidarConfig::default();
    let (Ok(mut ground), Ok(mut clusterer), Ok(mut pipeline)) =
        (GroundSegmenter::new(&config), GridClusterer::new(&config), LidarPipeline::new(config.clone()))
    else {
        return;
    };
    let mut kept = Vec::new();
    filter(&cloud.points, &config, &mut kept);
    let obstacle_points = pipeline.process(&cloud).obstacle_points;

    let mut group = c.benchmark_group("lidar_steps");
    group.bench_function("filter", |b| {
        let mut out = Vec::new();
        b.iter(|| filter(black_box(&cloud.points), &config, &mut out));
    });
    group.bench_function("deskew", |b| {
        let Ok(motion) = EgoMotion::from_ego_state(&ego()) else { return };
        let mut points = kept.clone();
        b.iter(|| {
            points.copy_from_slice(&kept);
            black_box(deskew_points(&mut points, motion, PointTimes::FromAzimuth, &config.deskew))
        });
    });
    group.bench_function("ground", |b| {
        let mut is_ground = Vec::new();
        b.iter(|| black_box(ground.segment(black_box(&kept), &mut is_ground)));
    });
    group.bench_function("dust", |b| {
        let mut filter = DustFilter::new(&config.dust);
        let mut is_dust = Vec::new();
        b.iter(|| black_box(filter.classify(black_box(&obstacle_points), None, &mut is_dust)));
    });
    group.bench_function("voxel", |b| {
        let mut downsampler = VoxelDownsampler::new(config.voxel.leaf_size_m);
        let mut centroids = Vec::new();
        b.iter(|| downsampler.downsample(black_box(&obstacle_points), &mut centroids));
    });
    group.bench_function("cluster", |b| b.iter(|| black_box(clusterer.cluster(black_box(&obstacle_points)))));
    let clusters = clusterer.cluster(&obstacle_points);
    group.bench_function("boxes", |b| {
        let mut fitter = RectangleFitter::new(config.lshape_angle_step_rad, config.lshape_max_points);
        let mut xy = Vec::new();
        b.iter(|| {
            for index in 0..clusters {
                let members = clusterer.cluster_members(index);
                if members.len() < config.cluster_min_points {
                    continue;
                }
                xy.clear();
                xy.extend(
                    members
                        .iter()
                        .filter_map(|&i| obstacle_points.get(i as usize))
                        .map(|p| [f64::from(p.x_m), f64::from(p.y_m)]),
                );
                black_box(fitter.fit(&xy));
            }
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = whole_pipeline, steps
}
criterion_main!(benches);
