//! Upload throughput against a plain TCP copy of the same bytes on loopback, and the truck
//! side's CPU cost per MB.
//!
//! `cargo bench -p pitsense-cloud-link --bench upload` (env `PITSENSE_BENCH_EPISODES`, default
//! 20 episodes of about 2 MB; `PITSENSE_BENCH_CHUNK_KIB`, default 256). The ingest runs as a
//! separate process (`pitsense-ingest`), so this process's CPU time (user + system, from
//! `/proc/self/stat`) is the truck side alone: reading the queue, SHA-256 per chunk, zenoh.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // Test/bench code: a failure should panic.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use pitsense_cloud_link::queue::Priority;
use pitsense_cloud_link::upload_command::{UploadRequest, run_upload};

/// This process's CPU time (user + system) in seconds; Linux clock ticks are 100 Hz (USER_HZ).
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let episodes = env_u64("PITSENSE_BENCH_EPISODES", 20);
    let chunk_kib = env_u64("PITSENSE_BENCH_CHUNK_KIB", 256);
    let work = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..episodes)
        .map(|i| common::write_test_episode(work.path(), &format!("bench-{i:02}.mcap"), 1000 + i, 20, 6000))
        .collect();
    let total_bytes: u64 = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    let megabytes = total_bytes as f64 / 1e6;

    // Plain TCP copy of the same files on loopback: read from disk, write to a socket, the
    // receiver reads and discards.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let receiver = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buffer = vec![0u8; 1 << 20];
        let mut received = 0u64;
        loop {
            let n = stream.read(&mut buffer).unwrap();
            if n == 0 {
                break received;
            }
            received += n as u64;
        }
    });
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    for file in &files {
        stream.write_all(&std::fs::read(file).unwrap()).unwrap();
    }
    drop(stream);
    assert_eq!(receiver.join().unwrap(), total_bytes);
    let tcp_s = started.elapsed().as_secs_f64();

    // zenoh upload to a pitsense-ingest process.
    let port = 27_600;
    let store = work.path().join("store");
    let mut ingest = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["--listen", &format!("tcp/127.0.0.1:{port}"), "--store"])
        .arg(&store)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Warm-up: one small episode establishes the session and the ingest.
    let warm = common::write_test_episode(work.path(), "warm.mcap", 1, 2, 100);
    let mut request = UploadRequest {
        connect: vec![format!("tcp/127.0.0.1:{port}")],
        queue_dir: work.path().join("queue-warm"),
        files: vec![warm],
        priority: Priority::Normal,
        once: true,
        truck_id: "bench-truck".into(),
        quota_bytes: 1 << 34,
        chunk_size_bytes: chunk_kib * 1024,
        rate_limit_bytes_per_s: None,
        tls: None,
    };
    run_upload(&request, &AtomicBool::new(false)).unwrap();
    // Enqueue first (copying and hashing the files is the recorder's cost, not the upload's).
    request.queue_dir = work.path().join("queue");
    let mut queue = pitsense_cloud_link::queue::EpisodeQueue::open(&request.queue_dir, 1 << 34).unwrap();
    for file in &files {
        queue.enqueue_copy(file, Priority::Normal).unwrap();
    }
    drop(queue);
    request.files.clear();
    let cpu_before = process_cpu_s();
    let started = Instant::now();
    let outcome = run_upload(&request, &AtomicBool::new(false)).unwrap();
    let zenoh_s = started.elapsed().as_secs_f64();
    let cpu_s = process_cpu_s() - cpu_before;
    assert_eq!(outcome.uploaded, episodes);
    let _ = ingest.kill();
    let _ = ingest.wait();

    println!("episodes: {episodes}, {megabytes:.1} MB, chunk {chunk_kib} KiB");
    println!("plain TCP copy:  {:.2} s, {:.1} MB/s", tcp_s, megabytes / tcp_s);
    println!("zenoh upload:    {:.2} s, {:.1} MB/s", zenoh_s, megabytes / zenoh_s);
    println!("ratio (upload throughput / TCP copy throughput): {:.3}", tcp_s / zenoh_s);
    println!("truck-side CPU: {:.3} s total, {:.1} ms per MB", cpu_s, cpu_s * 1000.0 / megabytes);
}
