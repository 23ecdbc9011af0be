//! A recorded Ouster capture played into `pitsense run` over UDP at its recorded pace (looped
//! into a longer stream when asked), with the same faults as a scenario, and checked against a
//! replay: every lidar datagram the harness sent is written to `sent.pcap` with its send time,
//! and `pitsense run --replay` of that file, with the same configuration, must publish the
//! same objects, byte for byte in `objects.jsonl`, as the live run did.
//!
//! What this shows: the truck's graph under wall-clock timing, socket buffers and the faults
//! gives what the replay of its own input gives, so that an episode replayed offline is what
//! ran on the truck. A recording has no ground truth: nothing is scored but latency, health,
//! the runtime's resources and this equality.
//!
//! Stamps: the sensor's column stamps are moved onto the wall clock (as a PTP-synchronised
//! sensor's are) so that the runtime's stamp checks hold; the first column of the first packet
//! is sent with the play's start.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pitsense_perception::drivers::pcap::PcapUdpWriter;
use serde::Serialize;

use crate::faults::{self, Channel, Datagram, Fault};
use crate::harness::{
    Finished, FrameFigures, HilError, HilOptions, HilReport, LiveRun, file_error, frame_figures, free_port,
    health_figures, link_recovery_ms, ns_since, spawn_pitsense, start_hogs, write_report,
};
use crate::player::{OusterLoop, sleep_until};

/// The longest a replay of the sent traffic may take.
pub const REPLAY_TIMEOUT: Duration = Duration::from_secs(600);

/// A recorded lidar capture to play.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The capture (pcap, classic or pcapng as the project's reader takes).
    pub pcap: PathBuf,
    /// The Ouster sensor's metadata JSON.
    pub metadata: PathBuf,
    /// Passes over the capture (≥ 1): each pass goes on with the frame ids and column stamps of
    /// the previous one (a one-rotation capture makes a stream of that many rotations).
    pub passes: u64,
}

impl Recording {
    /// A recording of `pcap` with `metadata`, or without it the JSON beside the capture with
    /// the same stem (`X.pcap` and `X.json`, as the Ouster SDK writes them).
    ///
    /// # Errors
    /// [`HilError::File`] when the capture or the metadata is not a file, or `passes` is 0.
    pub fn new(pcap: &Path, metadata: Option<&Path>, passes: u64) -> Result<Self, HilError> {
        if !pcap.is_file() {
            return Err(file_error(pcap)("no such capture file".into()));
        }
        let metadata = metadata.map_or_else(|| pcap.with_extension("json"), Path::to_path_buf);
        if !metadata.is_file() {
            return Err(file_error(&metadata)(
                "no sensor metadata (give --metadata, or put X.json beside X.pcap)".into(),
            ));
        }
        if passes == 0 {
            return Err(file_error(pcap)("--passes must be at least 1".into()));
        }
        let absolute = |path: &Path| std::path::absolute(path).map_err(|e| file_error(path)(e.to_string()));
        Ok(Self { pcap: absolute(pcap)?, metadata: absolute(&metadata)?, passes })
    }

    /// The recording's name in reports: the capture's file stem.
    pub fn name(&self) -> String {
        self.pcap.file_stem().map_or_else(|| "recording".to_owned(), |s| s.to_string_lossy().into_owned())
    }
}

/// The first frame where live and replay differ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrameDifference {
    /// Index of the frame (line of `objects.jsonl`, from 0).
    pub index: u64,
    /// The live frame's stamp, ns (`None`: live has no frame there).
    pub live_stamp_ns: Option<u64>,
    /// The replayed frame's stamp, ns (`None`: replay has no frame there).
    pub replay_stamp_ns: Option<u64>,
}

/// A recording's live output against the replay of what was sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveVsReplay {
    /// Frames (lines of `objects.jsonl`) the live runtime wrote.
    pub live_frames: u64,
    /// Frames the replay wrote.
    pub replay_frames: u64,
    /// Leading frames equal byte for byte.
    pub equal_frames: u64,
    /// The first difference; `None` when the files are equal.
    pub first_difference: Option<FrameDifference>,
    /// The replay's exit status (0 when the capture ended).
    pub replay_exit: Option<i32>,
    /// Whether the files are equal byte for byte and the replay ended cleanly.
    pub equal: bool,
}

impl LiveVsReplay {
    /// Compares two `objects.jsonl` texts line by line.
    pub fn compare(live: &str, replay: &str, replay_exit: Option<i32>) -> Self {
        let (live_lines, replay_lines): (Vec<&str>, Vec<&str>) =
            (live.lines().collect(), replay.lines().collect());
        let equal_frames = live_lines.iter().zip(&replay_lines).take_while(|(a, b)| a == b).count();
        let stamp = |line: Option<&&str>| -> Option<u64> {
            serde_json::from_str::<serde_json::Value>(line?).ok()?.get("stamp_ns")?.as_u64()
        };
        let first_difference = (live != replay).then(|| FrameDifference {
            index: equal_frames as u64,
            live_stamp_ns: stamp(live_lines.get(equal_frames)),
            replay_stamp_ns: stamp(replay_lines.get(equal_frames)),
        });
        Self {
            live_frames: live_lines.len() as u64,
            replay_frames: replay_lines.len() as u64,
            equal_frames: equal_frames as u64,
            equal: first_difference.is_none() && replay_exit == Some(0),
            first_difference,
            replay_exit,
        }
    }

    /// One line for people: what differs.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "live {} frames, replay {} frames, the first {} equal",
            self.live_frames, self.replay_frames, self.equal_frames
        );
        if let Some(difference) = &self.first_difference {
            let stamp = |s: Option<u64>| s.map_or_else(|| "none".to_owned(), |s| s.to_string());
            text.push_str(&format!(
                "; frame {} differs (live stamp {}, replay stamp {})",
                difference.index,
                stamp(difference.live_stamp_ns),
                stamp(difference.replay_stamp_ns)
            ));
        }
        if self.replay_exit != Some(0) {
            text.push_str(&format!(
                "; the replay exited with {}",
                self.replay_exit.map_or_else(|| "a signal or timeout".to_owned(), |c| c.to_string())
            ));
        }
        text
    }
}

/// The runtime configuration of a recording's run: one Ouster lidar from `lidar_source`
/// stamped by the sensor, event-time pairing (as replay runs), objects and health written in
/// `out`, and with `zenoh_port` a zenoh peer listening on it.
fn recording_config(
    recording: &Recording,
    lidar_source: &str,
    out: &Path,
    zenoh_port: Option<u16>,
    frame_budget_ms: u64,
) -> String {
    let mut text = format!(
        "# Generated by pitsense-hil for recording `{}`.\n\n[run]\ntruck_id = \"hil\"\nframe_budget_ms = \
         {frame_budget_ms}\nhealth_period_ms = 100\nsync = \"event_time\"\n\n[[run.inputs.lidar.sensors]]\nsource \
         = {:?}\ndriver = \"ouster\"\nmetadata = {:?}\nstamp = \"sensor\"\n\n[run.inputs.lidar.health]\n\
         max_stamp_lag_ms = 300\n\n[run.outputs]\nobjects_jsonl = {:?}\nhealth_jsonl = {:?}\n",
        recording.name(),
        lidar_source,
        recording.metadata.display().to_string(),
        out.join("objects.jsonl").display().to_string(),
        out.join("health.jsonl").display().to_string(),
    );
    if let Some(port) = zenoh_port {
        text.push_str(&format!(
            "\n[run.outputs.zenoh]\nmode = \"peer\"\nlisten = [\"tcp/127.0.0.1:{port}\"]\nframe_id = \"map\"\n"
        ));
    }
    text
}

/// The play schedule of a recording (every pass's packets at their recorded offsets); per
/// rotation (keyed by frame id) its stamp as the runtime publishes it, its last column's, play
/// ns; and the first column's stamp, sensor ns (play ns 0).
fn schedule(capture: &OusterLoop, passes: u64) -> (Vec<Datagram>, BTreeMap<u16, u64>, u64) {
    let layout = capture.layout();
    let period_ns = capture.frame_period_ns();
    let mut plan = Vec::new();
    let mut rotations = BTreeMap::new();
    let mut first_stamp_ns = None;
    for pass in 0..passes {
        for (offset_ns, payload) in capture.pass(pass) {
            let stamps = layout.column_stamps_ns(&payload);
            if let (Some(frame_id), Some(&last)) = (layout.frame_id(&payload), stamps.last()) {
                let first = *first_stamp_ns.get_or_insert(stamps[0]);
                let stamp = rotations.entry(frame_id).or_insert(0);
                *stamp = (*stamp).max(last.saturating_sub(first));
            }
            plan.push(Datagram { at_ns: pass * period_ns + offset_ns, channel: Channel::Lidar(0), payload });
        }
    }
    (plan, rotations, first_stamp_ns.unwrap_or(0))
}

/// Plays `recording` into `pitsense run` (see the module documentation); reports in
/// `options.out_dir/<name>/`: `report.json`, `pitsense.toml` and `runtime.log` of the live run,
/// `sent.pcap`, `replay.toml`, `replay.log` and `replay/objects.jsonl`.
///
/// # Errors
/// [`HilError`] when the capture cannot be read, a fault does not apply to a recording
/// (`rsu_spoof`), or the runtime's start, a transport or an output file fails.
pub fn run_recording(recording: &Recording, options: &HilOptions) -> Result<HilReport, HilError> {
    let name = recording.name();
    if options.faults.iter().any(|f| matches!(f, Fault::RsuSpoof { .. })) {
        return Err(HilError::Simulation {
            scenario: name,
            reason: "rsu_spoof needs a scenario's actors; a recording has none".into(),
        });
    }
    let out_dir =
        std::path::absolute(&options.out_dir).map_err(|e| file_error(&options.out_dir)(e.to_string()))?;
    let dir = out_dir.join(&name);
    std::fs::create_dir_all(dir.join("replay")).map_err(|e| file_error(&dir)(e.to_string()))?;
    let seed = options.seed.unwrap_or(0);
    let capture = OusterLoop::open(&recording.pcap, &recording.metadata)
        .map_err(|e| HilError::Recording(e.to_string()))?;
    let layout = capture.layout();
    let (plain, rotations, first_stamp_ns) = schedule(&capture, recording.passes);
    let (plan, fault_counts) = faults::apply(&options.faults, plain, &layout, seed);
    let rotation_of: Vec<Option<u64>> =
        plan.iter().map(|d| layout.frame_id(&d.payload).and_then(|id| rotations.get(&id).copied())).collect();

    // The live run.
    let (lidar_port, zenoh_port) = (free_port(true)?, free_port(false)?);
    let config = recording_config(
        recording,
        &format!("udp:127.0.0.1:{lidar_port}"),
        &dir,
        Some(zenoh_port),
        options.frame_budget_ms,
    );
    let mut live = LiveRun::launch(options, &dir, &config, zenoh_port)?;
    let hogs = start_hogs(&options.faults)?;
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| HilError::Transport(e.to_string()))?;
    let sent_path = dir.join("sent.pcap");
    let mut sent = PcapUdpWriter::create(&sent_path).map_err(|e| file_error(&sent_path)(e.to_string()))?;
    let wall0_ns =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0));
    let to_wall = i64::try_from(wall0_ns).unwrap_or(0) - i64::try_from(first_stamp_ns).unwrap_or(0);
    let to = SocketAddr::from(([127, 0, 0, 1], lidar_port));
    let (start, sampler) = live.begin();
    let mut last_sent_ns: BTreeMap<u64, u64> = BTreeMap::new();
    let mut lidar_datagrams_sent = 0_u64;
    for (datagram, rotation) in plan.iter().zip(&rotation_of) {
        let mut payload = datagram.payload.clone();
        layout.shift_column_stamps(&mut payload, to_wall);
        sleep_until(start, datagram.at_ns);
        live.follow_cuts(datagram.at_ns, start);
        socket.send_to(&payload, to).map_err(|e| HilError::Transport(format!("UDP to {to}: {e}")))?;
        let sent_ns = ns_since(start);
        sent.write_datagram(wall0_ns + sent_ns, lidar_port, &payload)
            .map_err(|e| file_error(&sent_path)(e.to_string()))?;
        lidar_datagrams_sent += 1;
        if let Some(stamp) = rotation {
            last_sent_ns.insert(*stamp, sent_ns);
        }
    }
    let play_end_ns = ns_since(start);
    sent.finish().map_err(|e| file_error(&sent_path)(e.to_string()))?;
    std::thread::sleep(options.drain);
    drop(hogs);
    let Finished { runtime_exit, resources, received, link_restored_ns } = live.finish(sampler)?;

    // Measure, as for a scenario: the runtime's stamps minus `wall0_ns` are play ns.
    let offset_ns = i64::try_from(wall0_ns).unwrap_or(0);
    let loop_ns = (recording.passes * capture.frame_period_ns()).max(1);
    let FrameFigures { received_at, latencies, late_frames, latency_ms, age_ms } =
        frame_figures(&options.faults, &last_sent_ns, loop_ns, offset_ns, &received, options.frame_budget_ms);
    let (input_rate_hz, health_transitions, runtime_late_frames) = health_figures(&received, play_end_ns);
    let frames_sent = last_sent_ns.len() as u64;
    let frames_published = received_at.len() as u64;

    // The replay of what was sent.
    let replay_dir = dir.join("replay");
    let replay_config = recording_config(
        recording,
        &format!("pcap:{}", sent_path.display()),
        &replay_dir,
        None,
        options.frame_budget_ms,
    );
    let replay_exit = replay(options, &dir, &replay_config)?;
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| file_error(path)(e.to_string()));
    let live_vs_replay = LiveVsReplay::compare(
        &read(&dir.join("objects.jsonl"))?,
        &read(&replay_dir.join("objects.jsonl"))?,
        replay_exit,
    );

    let report = HilReport {
        scenario: name,
        seed,
        faults: options.faults.iter().map(ToString::to_string).collect(),
        fault_counts,
        lidar_datagrams_sent,
        frames_sent,
        frames_published,
        dropped_frames: frames_sent.saturating_sub(frames_published),
        late_frames,
        runtime_late_frames,
        objects_messages: received.objects.len() as u64,
        latency_ms,
        age_ms,
        reaction_ms: None,
        reaction_ms_by_actor: BTreeMap::new(),
        link_recovery_ms: link_recovery_ms(&received, &link_restored_ns),
        rsu: None,
        can_output: None,
        health_transitions,
        input_rate_hz,
        health_reports: received.health.len() as u64,
        resources,
        latencies,
        runtime_exit,
        metrics: Default::default(),
        gates: Vec::new(),
        in_process: None,
        passed: runtime_exit == Some(143) && live_vs_replay.equal,
        live_vs_replay: Some(live_vs_replay),
        played_s: play_end_ns as f64 * 1e-9,
    };
    write_report(&dir, &report)?;
    Ok(report)
}

/// Runs `pitsense run --replay` on `config` (written to `dir/replay.toml`, its output in
/// `dir/replay.log`) to its end; its exit status (`None` when it had to be killed after
/// [`REPLAY_TIMEOUT`]).
fn replay(options: &HilOptions, dir: &Path, config: &str) -> Result<Option<i32>, HilError> {
    let mut child =
        spawn_pitsense(options, &["--replay"], &dir.join("replay.toml"), config, &dir.join("replay.log"))?;
    let deadline = Instant::now() + REPLAY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Ok(status.code());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_names_the_first_differing_frame() {
        let live = "{\"stamp_ns\":10,\"objects\":[]}\n{\"stamp_ns\":20,\"objects\":[1]}\n";
        let same = LiveVsReplay::compare(live, live, Some(0));
        assert!(same.equal);
        assert_eq!((same.live_frames, same.replay_frames, same.equal_frames), (2, 2, 2));
        assert_eq!(same.first_difference, None);

        let replay =
            "{\"stamp_ns\":10,\"objects\":[]}\n{\"stamp_ns\":20,\"objects\":[2]}\n{\"stamp_ns\":30}\n";
        let differ = LiveVsReplay::compare(live, replay, Some(0));
        assert!(!differ.equal);
        assert_eq!((differ.live_frames, differ.replay_frames, differ.equal_frames), (2, 3, 1));
        assert_eq!(
            differ.first_difference,
            Some(FrameDifference { index: 1, live_stamp_ns: Some(20), replay_stamp_ns: Some(20) })
        );
        assert!(differ.describe().contains("frame 1 differs"), "{}", differ.describe());

        // A live run that lost its last frame: the difference is at the frame live lacks.
        let shorter =
            LiveVsReplay::compare("{\"stamp_ns\":10}\n", "{\"stamp_ns\":10}\n{\"stamp_ns\":20}\n", Some(0));
        assert_eq!(
            shorter.first_difference,
            Some(FrameDifference { index: 1, live_stamp_ns: None, replay_stamp_ns: Some(20) })
        );
        // Equal files, but a replay that did not end cleanly, are not equal.
        assert!(!LiveVsReplay::compare(live, live, Some(1)).equal);
    }
}
