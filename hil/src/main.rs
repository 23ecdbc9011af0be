//! `pitsense-hil`: plays recorded sensor traffic into a running `pitsense run` over its real
//! transports, and prepares camera video files for it.
//!
//! ```text
//! pitsense-hil play-ouster --pcap CAPTURE.pcap --metadata META.json --to 127.0.0.1:7502 --passes 3000
//! pitsense-hil video --image A.png --image B.png --out camera.avi --frames 3000 --fps 10
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitsense_hil::player::OusterLoop;
use pitsense_types::{FrameId, Header, Image};

/// Simulated hardware-in-the-loop tools.
#[derive(Debug, Parser)]
#[command(name = "pitsense-hil", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Plays an Ouster capture over UDP at its recorded pace, looped into a stream of rotations
    /// (frame ids and column stamps rewritten per pass).
    PlayOuster {
        /// The capture (pcap) holding at least one whole rotation.
        #[arg(long)]
        pcap: PathBuf,
        /// The sensor's metadata JSON.
        #[arg(long)]
        metadata: PathBuf,
        /// Where the lidar packets go (the runtime's lidar socket).
        #[arg(long)]
        to: SocketAddr,
        /// Rotations to send (10 per second for a 10 Hz sensor).
        #[arg(long, default_value_t = 100)]
        passes: u64,
    },
    /// Writes a camera video (MJPG AVI, OpenCV's VideoWriter) cycling through images, each
    /// cropped to the smallest image's size (a video has one frame size).
    Video {
        /// Images (PNG/JPEG), in order; repeat the flag.
        #[arg(long = "image", required = true)]
        images: Vec<PathBuf>,
        /// The video file to write.
        #[arg(long)]
        out: PathBuf,
        /// Frames to write (the images are cycled).
        #[arg(long, default_value_t = 100)]
        frames: usize,
        /// Frame rate written in the file.
        #[arg(long, default_value_t = 10.0)]
        fps: f64,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::PlayOuster { pcap, metadata, to, passes } => {
            let capture = OusterLoop::open(&pcap, &metadata)
                .with_context(|| format!("capture `{}` with `{}`", pcap.display(), metadata.display()))?;
            let stats = capture.play(to, passes, &Arc::new(AtomicBool::new(false)))?;
            println!("sent {} datagrams in {} passes to {to}", stats.datagrams, stats.passes);
        }
        Command::Video { images, out, frames, fps } => {
            let header = Header { stamp_ns: 0, frame: FrameId::Camera(0), seq: 0 };
            let decoded = images
                .iter()
                .map(|path| {
                    pitsense_imaging::read_image(path, header, 0)
                        .with_context(|| format!("image `{}`", path.display()))
                })
                .collect::<anyhow::Result<Vec<Image>>>()?;
            let width_px = decoded.iter().map(|image| image.width_px).min().unwrap_or(0);
            let height_px = decoded.iter().map(|image| image.height_px).min().unwrap_or(0);
            let cropped = decoded
                .iter()
                .map(|image| pitsense_imaging::crop_top_left(image, width_px, height_px))
                .collect::<Result<Vec<_>, _>>()?;
            let sequence: Vec<Image> =
                (0..frames).filter_map(|i| cropped.get(i % cropped.len().max(1)).cloned()).collect();
            let written = pitsense_imaging::camera::write_video(&out, &sequence, fps)?;
            println!("wrote {written} frames of {width_px}x{height_px} at {fps} fps to {}", out.display());
        }
    }
    Ok(())
}
