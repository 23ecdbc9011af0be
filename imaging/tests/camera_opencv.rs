//! The OpenCV camera input against KITTI camera images: a video written with `write_video`
//! (OpenCV's `VideoWriter`, MJPG in AVI) and read back with `CameraSource`
//! (`VideoCapture`) gives the PNGs' frames, in order, in RGB, stamped with the injected clock.
//!
//! The reference is the PNG files decoded by the `image` crate (`read_image`), independent of
//! OpenCV. Run with `cargo test -p pitsense-imaging --features opencv --test camera_opencv`.
//!
//! The shared data holds nine KITTI camera images (object `image_2` 000000–000002, tracking
//! `image_02` 0001 and 0016, three each), fewer than the ten asked for; all nine are used,
//! cropped to the smallest size (1224×370, frame 000000's) because a video has one frame size.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitsense_imaging::camera::{CameraError, CameraOptions, CameraSource, StampSource, write_video};
use pitsense_imaging::read_image;
use pitsense_testkit::data_root;
use pitsense_types::{Clock, FrameId, Header, Image, ManualClock, PixelFormat};

/// Frames in the test video: the first ten KITTI camera images of the shared data (fewer when
/// the data holds fewer).
const MAX_FRAMES: usize = 10;
/// Frame rate written into the video, Hz (KITTI's camera rate).
const FPS: f64 = 10.0;
/// Largest mean absolute difference, 0–255 per channel, between a frame read back and its PNG.
/// OpenCV's MJPEG writer encodes at JPEG quality 95 with 4:2:0 chroma subsampling. Decoded
/// independently (Pillow/libjpeg, frames cut out of the AVI) that costs 3.3–3.6 levels on KITTI
/// 000001/000002; FFmpeg's decoder and its YUV→BGR conversion add about 0.3 and a −1.4 bias in
/// green. Measured through `CameraSource`: 3.5–5.4 over the nine frames (printed by the test).
/// Different scenes are 60–90 apart.
const MJPG_TOLERANCE: f64 = 7.0;

fn sorted_pngs(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "png"))
        .collect();
    paths.sort();
    paths
}

/// The first [`MAX_FRAMES`] KITTI camera PNGs: the object set's `image_2`, then the tracking
/// set's `image_02` sequences. `None` when the data is absent.
fn kitti_pngs() -> Option<Vec<PathBuf>> {
    let root = data_root();
    let mut paths = sorted_pngs(&root.join("kitti/object/training/image_2"));
    if paths.is_empty() {
        return None;
    }
    let tracking = root.join("kitti_tracking/image_02");
    if let Ok(sequences) = std::fs::read_dir(&tracking) {
        let mut sequences: Vec<PathBuf> = sequences.map(|entry| entry.unwrap().path()).collect();
        sequences.sort();
        for sequence in sequences {
            paths.extend(sorted_pngs(&sequence));
        }
    }
    paths.truncate(MAX_FRAMES);
    Some(paths)
}

fn mean_abs_difference(a: &Image, b: &Image) -> f64 {
    assert_eq!((a.width_px, a.height_px), (b.width_px, b.height_px));
    let total: u64 = a.data().iter().zip(b.data()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f64 / a.data().len() as f64
}

/// Mean (R, G, B) over the `block`×`block` square at (`x0`, `y0`).
fn block_mean_rgb(image: &Image, x0: u32, y0: u32, block: u32) -> [f64; 3] {
    let mut sums = [0.0; 3];
    for y in y0..y0 + block {
        for x in x0..x0 + block {
            let offset = (y as usize * image.width_px as usize + x as usize) * 3;
            for (channel, sum) in sums.iter_mut().enumerate() {
                *sum += f64::from(image.data()[offset + channel]);
            }
        }
    }
    sums.map(|sum| sum / f64::from(block * block))
}

/// The 16×16 block of `image` where red and blue differ most (the region that shows a channel
/// swap best).
fn most_coloured_block(image: &Image, block: u32) -> (u32, u32, [f64; 3]) {
    let mut best = (0, 0, [0.0; 3]);
    let mut best_contrast = -1.0;
    for y0 in (0..image.height_px - block).step_by(block as usize) {
        for x0 in (0..image.width_px - block).step_by(block as usize) {
            let rgb = block_mean_rgb(image, x0, y0, block);
            let contrast = (rgb[0] - rgb[2]).abs();
            if contrast > best_contrast {
                best_contrast = contrast;
                best = (x0, y0, rgb);
            }
        }
    }
    best
}

#[test]
fn video_written_from_kitti_reads_back_in_order_in_rgb_with_clock_stamps() {
    let Some(paths) = kitti_pngs() else {
        eprintln!("skipped: no KITTI images under {} (set PITSENSE_DATA)", data_root().display());
        return;
    };
    assert!(paths.len() >= 2, "need two KITTI images at least, found {paths:?}");
    let header = Header { stamp_ns: 0, frame: FrameId::ImagePixels(0), seq: 0 };
    let decoded: Vec<Image> = paths.iter().map(|path| read_image(path, header, 0).unwrap()).collect();
    let width_px = decoded.iter().map(|image| image.width_px).min().unwrap();
    let height_px = decoded.iter().map(|image| image.height_px).min().unwrap();
    let pngs: Vec<Image> = decoded
        .iter()
        .map(|image| pitsense_imaging::crop_top_left(image, width_px, height_px).unwrap())
        .collect();

    let folder = tempfile::tempdir().unwrap();
    let video = folder.path().join("kitti.avi");
    assert_eq!(write_video(&video, &pngs, FPS).unwrap(), pngs.len() as u64);

    let clock = ManualClock::new(0);
    let uri = format!("file:{}", video.display());
    let mut camera = CameraSource::open(&uri, 3, Arc::new(clock.clone())).unwrap();
    assert_eq!(camera.nominal_fps(), Some(FPS));
    eprintln!("backend: {:?}", camera.backend_name());

    let start_ns = 1_700_000_000_000_000_000_u64;
    let mut frames = Vec::new();
    loop {
        // An uneven step, so a stamp made from the frame index would not match.
        let now_ns = start_ns + frames.len() as u64 * 100_000_000 + (frames.len() as u64).pow(2) * 1_337;
        clock.set_ns(now_ns);
        let Some(frame) = camera.read().unwrap() else { break };
        assert_eq!(frame.header.stamp_ns, now_ns, "frame {} stamp", frames.len());
        assert_eq!(frame.header.seq, frames.len() as u64);
        assert_eq!(frame.header.frame, FrameId::ImagePixels(3));
        assert_eq!(frame.camera_id, 3);
        assert_eq!(frame.pixel_format, PixelFormat::Rgb8);
        frames.push(frame);
    }
    assert!(camera.read().unwrap().is_none(), "end of file stays the end");
    assert_eq!(frames.len(), pngs.len(), "frame count");
    assert_eq!(camera.counters().frames_read, pngs.len() as u64);
    assert_eq!(camera.counters().read_failures, 0);

    // All differences first (printed, so a failure shows the whole picture), then the checks.
    let differences: Vec<Vec<f64>> =
        frames.iter().map(|frame| pngs.iter().map(|png| mean_abs_difference(frame, png)).collect()).collect();
    for (index, row) in differences.iter().enumerate() {
        eprintln!("frame {index}: mean |frame - png j| for j = 0.. : {row:.2?}");
    }
    for (index, frame) in frames.iter().enumerate() {
        assert_eq!((frame.width_px, frame.height_px), (width_px, height_px), "frame {index} size");
        let own = differences[index][index];
        let nearest_other = differences[index]
            .iter()
            .enumerate()
            .filter(|&(other, _)| other != index)
            .map(|(_, difference)| *difference)
            .fold(f64::INFINITY, f64::min);
        assert!(own < MJPG_TOLERANCE, "frame {index} differs from its PNG by {own:.3}");
        // Frame order: each frame is clearly nearer its own PNG than any other (three frames of
        // tracking sequence 0016 show a still scene, 9.5 apart; different scenes are 60-90 apart).
        assert!(
            own < 0.75 * nearest_other,
            "frame {index} ({own:.3}) resembles another PNG ({nearest_other:.3})"
        );

        // Channel order: where red and blue differ most in the PNG, the frame agrees.
        let (x0, y0, png_rgb) = most_coloured_block(&pngs[index], 16);
        let frame_rgb = block_mean_rgb(frame, x0, y0, 16);
        assert!((png_rgb[0] - png_rgb[2]).abs() > 20.0, "frame {index}: no coloured block {png_rgb:?}");
        for channel in 0..3 {
            assert!(
                (frame_rgb[channel] - png_rgb[channel]).abs() < 8.0,
                "frame {index} block ({x0}, {y0}) channel {channel}: {frame_rgb:?} vs PNG {png_rgb:?}"
            );
        }
    }
}

#[test]
fn file_position_stamps_follow_the_video_timeline() {
    let Some(paths) = kitti_pngs() else {
        eprintln!("skipped: no KITTI images under {} (set PITSENSE_DATA)", data_root().display());
        return;
    };
    let header = Header { stamp_ns: 0, frame: FrameId::ImagePixels(0), seq: 0 };
    let first = read_image(&paths[0], header, 0).unwrap();
    let images = vec![first; 4];
    let folder = tempfile::tempdir().unwrap();
    let video = folder.path().join("still.avi");
    write_video(&video, &images, FPS).unwrap();

    let start_ns = 5_000_000_000_u64;
    let clock = ManualClock::new(42);
    let options = CameraOptions { stamp: StampSource::FilePosition { start_ns }, ..CameraOptions::default() };
    let mut camera = CameraSource::open_with(video.to_str().unwrap(), 0, Arc::new(clock), options).unwrap();
    let mut stamps = Vec::new();
    while let Some(frame) = camera.read().unwrap() {
        stamps.push(frame.header.stamp_ns);
    }
    // Frame k of a 10 Hz file sits at k × 100 ms on the file's timeline.
    let expected: Vec<u64> = (0..4).map(|k| start_ns + k * 100_000_000).collect();
    assert_eq!(stamps, expected);
}

#[test]
fn file_position_stamps_need_a_file() {
    let options =
        CameraOptions { stamp: StampSource::FilePosition { start_ns: 0 }, ..CameraOptions::default() };
    let error = CameraSource::open_with("v4l2:0", 0, Arc::new(ManualClock::new(0)), options).unwrap_err();
    assert!(matches!(error, CameraError::Uri { ref uri, .. } if uri == "v4l2:0"), "{error}");
}

#[test]
fn sources_that_cannot_open_are_errors_naming_the_uri() {
    let folder = tempfile::tempdir().unwrap();
    let garbage = folder.path().join("garbage.avi");
    std::fs::write(&garbage, b"RIFF\x10\x00\x00\x00AVI not a video at all").unwrap();
    let garbage_uri = format!("file:{}", garbage.display());
    for uri in
        ["file:/nonexistent.avi", "/nonexistent/clip.mp4", "v4l2:/dev/video99", "v4l2:99", &garbage_uri]
    {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let error = CameraSource::open(uri, 0, clock).unwrap_err();
        eprintln!("{error}");
        let CameraError::Open { uri: named, reason } = &error else { panic!("`{uri}`: {error:?}") };
        assert_eq!(named, uri);
        assert!(!reason.is_empty());
        assert!(error.to_string().contains(uri), "{error}");
    }
}

#[test]
fn unreachable_rtsp_stream_fails_within_the_open_timeout() {
    // Port 1 on the loopback has no listener: the connection is refused at once; the open
    // timeout bounds the wait should it not be.
    let uri = "rtsp://127.0.0.1:1/none";
    let options = CameraOptions { open_timeout_ms: 2_000, ..CameraOptions::default() };
    let (sender, receiver) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let result = CameraSource::open_with(uri, 0, Arc::new(ManualClock::new(0)), options);
        let _ = sender.send(result.map(|_| ()));
    });
    let result = receiver.recv_timeout(Duration::from_secs(15)).expect("open did not return within 15 s");
    eprintln!("rtsp open failed after {:?}", started.elapsed());
    let error = result.unwrap_err();
    assert!(matches!(error, CameraError::Open { uri: ref named, .. } if named == uri), "{error}");
}

#[test]
fn silent_rtsp_server_is_given_up_after_the_open_timeout() {
    // A loopback listener (OS-chosen port) that accepts the connection and never answers the
    // RTSP OPTIONS request: only the open timeout (`CAP_PROP_OPEN_TIMEOUT_MSEC`) ends the wait.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let uri = format!("rtsp://127.0.0.1:{port}/silent");
    let options =
        CameraOptions { open_timeout_ms: 1_500, read_timeout_ms: 1_500, ..CameraOptions::default() };
    let (sender, receiver) = std::sync::mpsc::channel();
    let started = Instant::now();
    let thread_uri = uri.clone();
    std::thread::spawn(move || {
        let result = CameraSource::open_with(&thread_uri, 0, Arc::new(ManualClock::new(0)), options);
        let _ = sender.send(result.map(|_| ()));
    });
    let result = receiver.recv_timeout(Duration::from_secs(15)).expect("open did not return within 15 s");
    let elapsed = started.elapsed();
    eprintln!("silent rtsp open failed after {elapsed:?}");
    let error = result.unwrap_err();
    assert!(matches!(error, CameraError::Open { uri: ref named, .. } if *named == uri), "{error}");
    assert!(elapsed >= Duration::from_millis(1_000), "gave up after {elapsed:?}, before the timeout");
}

#[test]
fn write_video_refuses_empty_and_mixed_sizes() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("bad.avi");
    let header = Header { stamp_ns: 0, frame: FrameId::ImagePixels(0), seq: 0 };
    let small = Image::new(header, 0, 4, 2, PixelFormat::Rgb8, vec![0; 24]).unwrap();
    let large = Image::new(header, 0, 8, 2, PixelFormat::Rgb8, vec![0; 48]).unwrap();
    assert!(matches!(write_video(&path, &[], FPS), Err(CameraError::Write { .. })));
    assert!(matches!(write_video(&path, std::slice::from_ref(&small), 0.0), Err(CameraError::Write { .. })));
    let error = write_video(&path, &[small, large], FPS).unwrap_err();
    assert!(error.to_string().contains("8x2"), "{error}");
}
