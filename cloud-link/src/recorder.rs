//! The recorder driver: a thread that keeps the pre-roll ring buffer, evaluates the trigger
//! rules, writes episodes and hands them to the upload queue.
//!
//! Perception never waits for it: [`RecorderHandle::offer`] is a `try_send` into a bounded
//! channel (`recorder.channel_capacity`); when the channel is full the message is dropped and
//! counted ([`RecorderHandle::dropped_messages`]). Manual triggers come from a zenoh put on
//! `pitsense/truck/<truck_id>/record` (payload: a free-text note) through the same channel.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use pitsense_types::CameraCalibration;

use crate::episode::{EpisodeMessage, EpisodeMetadata, EpisodeWriter, EpisodeWriterOptions};
use crate::error::CloudLinkError;
use crate::queue::{EpisodeQueue, Priority};
use crate::trigger::{
    EpisodeWindow, PreRollBuffer, RecorderConfig, TriggerEngine, TriggerReason, WindowAction,
};

/// The key expression a manual trigger is put on.
pub fn manual_trigger_key(truck_id: &str) -> String {
    format!("pitsense/truck/{truck_id}/record")
}

enum Input {
    Message(EpisodeMessage),
    /// A manual trigger: the note and its stamp (`None`: the newest message's).
    Manual(String, Option<u64>),
}

/// What the recorder did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecorderReport {
    /// Episodes written and queued: (file name, trigger reason text, priority).
    pub episodes: Vec<(String, String, Priority)>,
    /// Messages dropped from the pre-roll buffer for its memory bound.
    pub dropped_for_memory: u64,
}

/// Counters readable while the recorder runs.
#[derive(Debug, Default)]
pub struct RecorderCounters {
    /// Messages refused because the channel was full.
    pub dropped_messages: AtomicU64,
    /// Manual triggers received.
    pub manual_triggers: AtomicU64,
    /// Episodes queued.
    pub episodes_queued: AtomicU64,
}

/// The running recorder.
pub struct RecorderHandle {
    sender: Option<SyncSender<Input>>,
    counters: Arc<RecorderCounters>,
    worker: Option<std::thread::JoinHandle<Result<RecorderReport, CloudLinkError>>>,
    subscriber: Option<zenoh::pubsub::Subscriber<()>>,
}

impl RecorderHandle {
    /// Starts the recorder thread. `metadata` is the template of every episode's metadata (its
    /// trigger fields are filled per episode); `camera` enables the camera-view check of the
    /// disagreement rule; finished episodes are moved into `queue`.
    ///
    /// Errors: the episode folder cannot be created, or the thread cannot be spawned.
    pub fn spawn(
        config: RecorderConfig,
        metadata: EpisodeMetadata,
        camera: Option<CameraCalibration>,
        queue: Arc<Mutex<EpisodeQueue>>,
    ) -> Result<Self, CloudLinkError> {
        let episode_dir = PathBuf::from(&config.episode_dir);
        std::fs::create_dir_all(&episode_dir)
            .map_err(|e| CloudLinkError::io(&episode_dir, "create folder", e))?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(config.channel_capacity.max(1));
        let counters = Arc::new(RecorderCounters::default());
        let worker_counters = counters.clone();
        let worker = std::thread::Builder::new()
            .name("pitsense-recorder".into())
            .spawn(move || {
                Worker::new(config, metadata, camera, queue, episode_dir, worker_counters).run(&receiver)
            })
            .map_err(|e| CloudLinkError::io("pitsense-recorder", "spawn thread", e))?;
        Ok(Self { sender: Some(sender), counters, worker: Some(worker), subscriber: None })
    }

    /// Offers a message without blocking; `false` (and the drop counter) when the channel is
    /// full.
    pub fn offer(&self, message: EpisodeMessage) -> bool {
        self.send(Input::Message(message))
    }

    /// Sends a message, waiting while the channel is full (replay: every message is recorded,
    /// the producer runs at the recorder's pace); `false` (and the drop counter) only when the
    /// recorder thread has gone.
    pub fn offer_blocking(&self, message: EpisodeMessage) -> bool {
        let Some(sender) = &self.sender else { return false };
        if sender.send(Input::Message(message)).is_ok() {
            true
        } else {
            self.counters.dropped_messages.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// A manual trigger (as if put on [`manual_trigger_key`]); `false` when the channel is full.
    pub fn trigger_manual(&self, note: &str) -> bool {
        self.counters.manual_triggers.fetch_add(1, Ordering::Relaxed);
        self.send(Input::Manual(note.to_owned(), None))
    }

    /// A manual trigger at `stamp_ns` (ns, the clock of the messages): the episode window is
    /// placed around that instant even when no message has come yet (a trigger before the first
    /// message would otherwise be placed at 0). `false` when the channel is full.
    pub fn trigger_manual_at(&self, note: &str, stamp_ns: u64) -> bool {
        self.counters.manual_triggers.fetch_add(1, Ordering::Relaxed);
        self.send(Input::Manual(note.to_owned(), Some(stamp_ns)))
    }

    fn send(&self, input: Input) -> bool {
        let Some(sender) = &self.sender else { return false };
        match sender.try_send(input) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dropped_messages.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// The counters.
    pub fn counters(&self) -> Arc<RecorderCounters> {
        self.counters.clone()
    }

    /// Messages dropped because the channel was full.
    pub fn dropped_messages(&self) -> u64 {
        self.counters.dropped_messages.load(Ordering::Relaxed)
    }

    /// Subscribes to manual triggers on `pitsense/truck/<truck_id>/record` in `session`.
    ///
    /// Errors: the subscriber cannot be declared.
    pub fn listen_for_manual_triggers(
        &mut self,
        session: &zenoh::Session,
        truck_id: &str,
    ) -> Result<(), CloudLinkError> {
        use zenoh::Wait;
        let Some(sender) = self.sender.clone() else { return Ok(()) };
        let counters = self.counters.clone();
        let key = manual_trigger_key(truck_id);
        let subscriber = session
            .declare_subscriber(&key)
            .callback(move |sample| {
                let note = String::from_utf8_lossy(&sample.payload().to_bytes())
                    .chars()
                    .take(200)
                    .collect::<String>();
                counters.manual_triggers.fetch_add(1, Ordering::Relaxed);
                if sender.try_send(Input::Manual(note, None)).is_err() {
                    counters.dropped_messages.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("manual trigger dropped: recorder channel full");
                }
            })
            .wait()
            .map_err(|e| CloudLinkError::Zenoh {
                action: "declare subscriber",
                endpoint: key,
                reason: e.to_string(),
            })?;
        self.subscriber = Some(subscriber);
        Ok(())
    }

    /// Closes the input, lets the thread finish the open episode and returns its report.
    ///
    /// Errors: writing or queueing an episode failed; the thread panicked.
    pub fn finish(mut self) -> Result<RecorderReport, CloudLinkError> {
        self.subscriber = None;
        self.sender = None;
        match self.worker.take() {
            Some(worker) => worker.join().map_err(|_| CloudLinkError::Config {
                key: "recorder".into(),
                reason: "thread panicked".into(),
            })?,
            None => Ok(RecorderReport::default()),
        }
    }
}

struct Worker {
    config: RecorderConfig,
    metadata: EpisodeMetadata,
    engine: TriggerEngine,
    buffer: PreRollBuffer,
    window: EpisodeWindow,
    queue: Arc<Mutex<EpisodeQueue>>,
    episode_dir: PathBuf,
    counters: Arc<RecorderCounters>,
    writer: Option<(EpisodeWriter, u64)>,
    last_stamp_ns: u64,
    report: RecorderReport,
}

fn seconds_to_ns(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 { (seconds * 1e9) as u64 } else { 0 }
}

impl Worker {
    fn new(
        config: RecorderConfig,
        metadata: EpisodeMetadata,
        camera: Option<CameraCalibration>,
        queue: Arc<Mutex<EpisodeQueue>>,
        episode_dir: PathBuf,
        counters: Arc<RecorderCounters>,
    ) -> Self {
        Self {
            engine: TriggerEngine::new(config.triggers.clone(), camera),
            buffer: PreRollBuffer::new(config.pre_roll_s, config.ring_buffer_bytes),
            window: EpisodeWindow::default(),
            config,
            metadata,
            queue,
            episode_dir,
            counters,
            writer: None,
            last_stamp_ns: 0,
            report: RecorderReport::default(),
        }
    }

    fn run(mut self, receiver: &Receiver<Input>) -> Result<RecorderReport, CloudLinkError> {
        while let Ok(input) = receiver.recv() {
            match input {
                Input::Manual(note, stamp_ns) => {
                    if let Some(reason) = self.engine.manual(&note) {
                        self.trigger(reason, stamp_ns.unwrap_or(self.last_stamp_ns))?;
                    }
                }
                Input::Message(message) => self.message(message)?,
            }
        }
        self.close()?;
        self.report.dropped_for_memory = self.buffer.dropped_for_memory();
        Ok(self.report)
    }

    fn trigger(&mut self, reason: TriggerReason, stamp_ns: u64) -> Result<(), CloudLinkError> {
        let (pre_ns, post_ns) =
            (seconds_to_ns(self.config.pre_roll_s), seconds_to_ns(self.config.post_roll_s));
        if let WindowAction::Open { reason, start_ns, .. } =
            self.window.trigger(reason, stamp_ns, pre_ns, post_ns)
        {
            let file_name = format!("{}-{stamp_ns}-{}.mcap", self.metadata.truck_id, reason.rule());
            let path = self.episode_dir.join(file_name);
            let metadata = EpisodeMetadata {
                trigger_reason: reason.text(),
                trigger_stamp_ns: stamp_ns,
                ..self.metadata.clone()
            };
            let options =
                EpisodeWriterOptions { chunk_size_bytes: self.config.chunk_size_bytes, ..Default::default() };
            let mut writer = EpisodeWriter::create(&path, &metadata, options)?;
            for message in self.buffer.drain_from(start_ns) {
                writer.write(&message)?;
            }
            writer.flush_chunk()?;
            self.writer = Some((writer, stamp_ns));
            tracing::info!(file = %path.display(), reason = %reason.text(), "episode started");
        }
        Ok(())
    }

    fn message(&mut self, message: EpisodeMessage) -> Result<(), CloudLinkError> {
        let stamp_ns = message.stamp_ns();
        self.last_stamp_ns = self.last_stamp_ns.max(stamp_ns);
        if self.window.message(stamp_ns) == WindowAction::Close {
            self.close()?;
        }
        for reason in self.engine.evaluate(&message) {
            self.trigger(reason, stamp_ns)?;
        }
        let flush_ns = seconds_to_ns(self.config.chunk_flush_s);
        match self.writer.as_mut() {
            Some((writer, last_flush_ns)) => {
                writer.write(&message)?;
                if stamp_ns >= last_flush_ns.saturating_add(flush_ns) {
                    writer.flush_chunk()?;
                    *last_flush_ns = stamp_ns;
                }
            }
            None => self.buffer.push(message),
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), CloudLinkError> {
        let Some((reason, priority, _)) = self.window.close() else { return Ok(()) };
        let Some((writer, _)) = self.writer.take() else { return Ok(()) };
        let summary = writer.finish()?;
        let file_name =
            summary.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.queue
            .lock()
            .map_err(|_| CloudLinkError::Config { key: "queue".into(), reason: "lock poisoned".into() })?
            .enqueue_move(&summary.path, priority)?;
        self.counters.episodes_queued.fetch_add(1, Ordering::Relaxed);
        tracing::info!(file = %file_name, reason = %reason.text(), ?priority, "episode queued");
        self.report.episodes.push((file_name, reason.text(), priority));
        Ok(())
    }
}
