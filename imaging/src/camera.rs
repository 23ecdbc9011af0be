//! Live camera input through OpenCV's `VideoCapture`, and video files through `VideoWriter`.
//!
//! A [`CameraSource`] opens a V4L2 device, an RTSP/HTTP stream, a GStreamer pipeline or a video
//! file (see [`CameraUri`]) and returns RGB8 [`Image`]s stamped at capture with an injected
//! [`Clock`] (or, for replay, from the file's own timeline: [`StampSource::FilePosition`]).
//! [`write_video`] writes images as Motion-JPEG in an AVI container, for tests and the simulator.
//!
//! Backend: the `opencv` crate (bindings generated at build time against the system's OpenCV,
//! Debian's `libopencv-dev` 4.6; `./x setup` installs it with `clang`/`libclang-dev` for the
//! binding generator). Only the `videoio` and `imgproc` modules are built (plus `core`).
//!
//! Placement: this module sits in `pitsense-imaging` behind the cargo feature `opencv` rather
//! than in `perception` (the stage stays free of OpenCV's long build and system library) or in
//! `runtime` (so the simulator in `sim` can write videos without depending on the binary crate,
//! and so rebuilding the runtime never re-checks the bindings). The runtime turns the feature on
//! through its default feature `camera-opencv`; builds that leave it off need no OpenCV at all.
//!
//! Capture timing: the stamp is read right after `VideoCapture::grab` returns and before the
//! frame is decoded (`retrieve`), the nearest point to the exposure that `VideoCapture` exposes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use opencv::core::{Mat, Scalar, Size, Vector};
use opencv::imgproc;
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture, VideoCaptureAPIs, VideoWriter};
use pitsense_types::{Clock, FrameId, Header, Image, PixelFormat, SensorId};

/// Why a camera could not be opened or read, or a video could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// The URI is not one of the forms [`CameraUri::parse`] accepts.
    #[error("camera `{uri}`: bad URI: {reason}")]
    Uri {
        /// The URI given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The device, stream, pipeline or file could not be opened.
    #[error("camera `{uri}`: cannot open: {reason}")]
    Open {
        /// The URI given.
        uri: String,
        /// Why (missing file or device, backend not built in, OpenCV refused it).
        reason: String,
    },
    /// A frame could not be grabbed or decoded from an open source.
    #[error("camera `{uri}`: read failed: {reason}")]
    Read {
        /// The URI of the source.
        uri: String,
        /// Why (device lost, stream ended, OpenCV error).
        reason: String,
    },
    /// A decoded frame has a layout this module does not convert (not 8-bit 1, 3 or 4 channels).
    #[error("camera `{uri}`: unusable frame: {reason}")]
    Frame {
        /// The URI of the source.
        uri: String,
        /// What is wrong with the frame.
        reason: String,
    },
    /// A video file could not be written.
    #[error("video `{}`: cannot write: {reason}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// Why (no image, size mismatch, OpenCV refused the file or codec).
        reason: String,
    },
}

/// Where a camera's frames come from, parsed from a configuration URI by [`CameraUri::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CameraUri {
    /// `v4l2:/dev/videoN`: a V4L2 device node.
    V4l2Device(PathBuf),
    /// `v4l2:N`: the V4L2 device with index `N` (`/dev/videoN`).
    V4l2Index(i32),
    /// `rtsp://`, `rtsps://`, `http://`, `https://`, `rtmp://`, `udp://`, `tcp://`: a network
    /// stream read through the FFmpeg backend, with the open and read timeouts of
    /// [`CameraOptions`].
    Stream(String),
    /// `gst:<pipeline>`: a GStreamer pipeline ending in `appsink`.
    Gstreamer(String),
    /// `file:PATH` or a plain path: a video file.
    File(PathBuf),
}

/// URI schemes read as network streams through FFmpeg.
const STREAM_SCHEMES: [&str; 7] =
    ["rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://"];

impl CameraUri {
    /// Parses a camera URI: `v4l2:/dev/video0`, `v4l2:0`, `rtsp://host/path` (and the other
    /// [`CameraUri::Stream`] schemes), `gst:<pipeline>`, `file:PATH`, or a plain file path.
    ///
    /// # Errors
    /// [`CameraError::Uri`] for an empty URI or an empty or negative V4L2 target.
    pub fn parse(uri: &str) -> Result<Self, CameraError> {
        let bad = |reason: &str| CameraError::Uri { uri: uri.to_owned(), reason: reason.to_owned() };
        let trimmed = uri.trim();
        if trimmed.is_empty() {
            return Err(bad("empty URI"));
        }
        if let Some(target) = trimmed.strip_prefix("v4l2:") {
            let target = target.trim();
            if target.is_empty() {
                return Err(bad("`v4l2:` needs a device path (/dev/video0) or an index (0)"));
            }
            if target.bytes().all(|byte| byte.is_ascii_digit()) {
                let index: i32 = target.parse().map_err(|_| bad("V4L2 index out of range"))?;
                return Ok(Self::V4l2Index(index));
            }
            if target.starts_with('-') {
                return Err(bad("V4L2 index must not be negative"));
            }
            return Ok(Self::V4l2Device(PathBuf::from(target)));
        }
        if let Some(pipeline) = trimmed.strip_prefix("gst:") {
            if pipeline.trim().is_empty() {
                return Err(bad("`gst:` needs a GStreamer pipeline ending in appsink"));
            }
            return Ok(Self::Gstreamer(pipeline.trim().to_owned()));
        }
        let lower = trimmed.to_ascii_lowercase();
        if STREAM_SCHEMES.iter().any(|scheme| lower.starts_with(scheme)) {
            return Ok(Self::Stream(trimmed.to_owned()));
        }
        let path = trimmed.strip_prefix("file:").unwrap_or(trimmed);
        if path.is_empty() {
            return Err(bad("`file:` needs a path"));
        }
        Ok(Self::File(PathBuf::from(path)))
    }

    /// Whether the source is a video file (ends; can be stamped from its own timeline).
    pub fn is_file(&self) -> bool {
        matches!(self, Self::File(_))
    }
}

/// Where a frame's `header.stamp_ns` comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StampSource {
    /// The injected clock's time right after the frame is grabbed (live cameras; the default).
    #[default]
    Clock,
    /// A video file's own timeline, for replay: `start_ns` plus the frame's position in the file
    /// (`CAP_PROP_POS_MSEC` after the grab), rounded to the nanosecond. Files only.
    FilePosition {
        /// Stamp of the file's time zero, ns on the truck clock.
        start_ns: u64,
    },
}

/// How a [`CameraSource`] opens and stamps its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CameraOptions {
    /// Where stamps come from.
    pub stamp: StampSource,
    /// Longest wait for a network stream to open, ms (OpenCV `CAP_PROP_OPEN_TIMEOUT_MSEC`,
    /// honoured by the FFmpeg backend).
    pub open_timeout_ms: u32,
    /// Longest wait for one frame of a network stream, ms (`CAP_PROP_READ_TIMEOUT_MSEC`).
    pub read_timeout_ms: u32,
}

impl Default for CameraOptions {
    /// Clock stamps, 5 s open timeout, 2 s read timeout.
    fn default() -> Self {
        Self { stamp: StampSource::Clock, open_timeout_ms: 5_000, read_timeout_ms: 2_000 }
    }
}

/// What a [`CameraSource`] has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CameraCounters {
    /// Frames returned by [`CameraSource::read`].
    pub frames_read: u64,
    /// Reads that failed (grab or decode failed, unusable frame); the end of a file is not one.
    pub read_failures: u64,
}

/// One camera read through OpenCV's `VideoCapture`, returning RGB8 [`Image`]s.
///
/// Each image's header: `stamp_ns` from [`CameraOptions::stamp`], `frame`
/// [`FrameId::ImagePixels`]`(camera_id)`, `seq` 0, 1, 2, … counting returned frames (a failed
/// read takes no number).
pub struct CameraSource {
    uri: String,
    source: CameraUri,
    camera_id: SensorId,
    clock: Arc<dyn Clock>,
    stamp: StampSource,
    capture: VideoCapture,
    /// The decoded frame as OpenCV delivers it (BGR, grey or BGRA); reused between reads.
    frame: Mat,
    /// The frame converted to RGB; reused between reads.
    rgb: Mat,
    counters: CameraCounters,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("uri", &self.uri)
            .field("camera_id", &self.camera_id)
            .field("stamp", &self.stamp)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl CameraSource {
    /// Opens `uri` (see [`CameraUri::parse`]) with [`CameraOptions::default`]: frames stamped
    /// with `clock` at capture.
    ///
    /// # Errors
    /// [`CameraError::Uri`] for a malformed URI, [`CameraError::Open`] (naming the URI and the
    /// reason) when the device, stream, pipeline or file cannot be opened.
    pub fn open(uri: &str, camera_id: SensorId, clock: Arc<dyn Clock>) -> Result<Self, CameraError> {
        Self::open_with(uri, camera_id, clock, CameraOptions::default())
    }

    /// Opens `uri` with explicit [`CameraOptions`].
    ///
    /// Backends: V4L2 for `v4l2:`, FFmpeg (with the options' timeouts) for network streams,
    /// GStreamer for `gst:`, OpenCV's first backend that accepts the file otherwise.
    ///
    /// # Errors
    /// As [`CameraSource::open`]; also [`CameraError::Uri`] when
    /// [`StampSource::FilePosition`] is asked for a source that is not a file.
    pub fn open_with(
        uri: &str,
        camera_id: SensorId,
        clock: Arc<dyn Clock>,
        options: CameraOptions,
    ) -> Result<Self, CameraError> {
        let source = CameraUri::parse(uri)?;
        if matches!(options.stamp, StampSource::FilePosition { .. }) && !source.is_file() {
            return Err(CameraError::Uri {
                uri: uri.to_owned(),
                reason: "stamps from the file position need a video file".to_owned(),
            });
        }
        let open_error = |reason: String| CameraError::Open { uri: uri.to_owned(), reason };
        let cv_open_error = |error: opencv::Error| open_error(format!("OpenCV: {error}"));
        let (capture, backend) = match &source {
            CameraUri::V4l2Index(index) => {
                require_backend(videoio::CAP_V4L2, "V4L2").map_err(&open_error)?;
                (VideoCapture::new(*index, videoio::CAP_V4L2).map_err(cv_open_error)?, "V4L2")
            }
            CameraUri::V4l2Device(path) => {
                require_backend(videoio::CAP_V4L2, "V4L2").map_err(&open_error)?;
                if !path.exists() {
                    return Err(open_error(format!("no device node `{}`", path.display())));
                }
                (VideoCapture::from_file(path, videoio::CAP_V4L2).map_err(cv_open_error)?, "V4L2")
            }
            CameraUri::Stream(url) => {
                require_backend(videoio::CAP_FFMPEG, "FFmpeg").map_err(&open_error)?;
                let params = Vector::<i32>::from_slice(&[
                    videoio::CAP_PROP_OPEN_TIMEOUT_MSEC,
                    clamp_ms(options.open_timeout_ms),
                    videoio::CAP_PROP_READ_TIMEOUT_MSEC,
                    clamp_ms(options.read_timeout_ms),
                ]);
                let capture = VideoCapture::from_file_with_params(url, videoio::CAP_FFMPEG, &params)
                    .map_err(cv_open_error)?;
                (capture, "FFmpeg")
            }
            CameraUri::Gstreamer(pipeline) => {
                require_backend(videoio::CAP_GSTREAMER, "GStreamer").map_err(&open_error)?;
                (
                    VideoCapture::from_file(pipeline, videoio::CAP_GSTREAMER).map_err(cv_open_error)?,
                    "GStreamer",
                )
            }
            CameraUri::File(path) => {
                if !path.is_file() {
                    return Err(open_error(format!("no video file `{}`", path.display())));
                }
                (VideoCapture::from_file(path, videoio::CAP_ANY).map_err(cv_open_error)?, "any")
            }
        };
        if !capture.is_opened().map_err(cv_open_error)? {
            return Err(open_error(format!("OpenCV's {backend} backend did not open it")));
        }
        Ok(Self {
            uri: uri.to_owned(),
            source,
            camera_id,
            clock,
            stamp: options.stamp,
            capture,
            frame: Mat::default(),
            rgb: Mat::default(),
            counters: CameraCounters::default(),
        })
    }

    /// Reads the next frame as an RGB8 [`Image`] (see the type's docs for the header).
    ///
    /// Blocks until a live source delivers a frame (bounded by the read timeout for streams).
    /// Returns `Ok(None)` at the end of a video file, and again on every later call.
    ///
    /// # Errors
    /// [`CameraError::Read`] when a live source delivers no frame (device lost, stream ended or
    /// timed out) or decoding fails; [`CameraError::Frame`] for a frame that is not 8-bit grey,
    /// BGR or BGRA, or whose file position is unusable. Each counts in
    /// [`CameraCounters::read_failures`]; the source stays usable.
    pub fn read(&mut self) -> Result<Option<Image>, CameraError> {
        match self.read_frame() {
            Ok(image) => Ok(image),
            Err(error) => {
                self.counters.read_failures += 1;
                Err(error)
            }
        }
    }

    fn read_frame(&mut self) -> Result<Option<Image>, CameraError> {
        let grabbed =
            self.capture.grab().map_err(|error| self.read_error(format!("grab: OpenCV: {error}")))?;
        if !grabbed {
            if self.source.is_file() {
                return Ok(None);
            }
            return Err(self.read_error("no frame (device lost, stream ended or timed out)".to_owned()));
        }
        let stamp_ns = match self.stamp {
            StampSource::Clock => self.clock.now_ns(),
            StampSource::FilePosition { start_ns } => {
                let position_ms = self
                    .capture
                    .get(videoio::CAP_PROP_POS_MSEC)
                    .map_err(|error| self.read_error(format!("file position: OpenCV: {error}")))?;
                if !position_ms.is_finite() || position_ms < 0.0 {
                    return Err(self.frame_error(format!("file position {position_ms} ms is unusable")));
                }
                // f64 → u64 saturates; positions beyond 584 years are not a concern.
                start_ns.saturating_add((position_ms * 1e6).round() as u64)
            }
        };
        let retrieved = self
            .capture
            .retrieve(&mut self.frame, 0)
            .map_err(|error| self.read_error(format!("retrieve: OpenCV: {error}")))?;
        if !retrieved || self.frame.empty() {
            return Err(self.read_error("grabbed frame could not be decoded".to_owned()));
        }
        let code = match self.frame.typ() {
            opencv::core::CV_8UC3 => imgproc::COLOR_BGR2RGB,
            opencv::core::CV_8UC1 => imgproc::COLOR_GRAY2RGB,
            opencv::core::CV_8UC4 => imgproc::COLOR_BGRA2RGB,
            other => {
                return Err(
                    self.frame_error(format!("OpenCV pixel type {other} is not 8-bit grey, BGR or BGRA"))
                );
            }
        };
        imgproc::cvt_color_def(&self.frame, &mut self.rgb, code)
            .map_err(|error| self.frame_error(format!("colour conversion: OpenCV: {error}")))?;
        let (Ok(width_px), Ok(height_px)) = (u32::try_from(self.rgb.cols()), u32::try_from(self.rgb.rows()))
        else {
            return Err(self.frame_error(format!(
                "negative frame size {}x{}",
                self.rgb.cols(),
                self.rgb.rows()
            )));
        };
        let data = self
            .rgb
            .data_bytes()
            .map_err(|error| self.frame_error(format!("frame bytes: OpenCV: {error}")))?
            .to_vec();
        let header =
            Header { stamp_ns, frame: FrameId::ImagePixels(self.camera_id), seq: self.counters.frames_read };
        let image = Image::new(header, self.camera_id, width_px, height_px, PixelFormat::Rgb8, data)
            .map_err(|error| self.frame_error(error.to_string()))?;
        self.counters.frames_read += 1;
        Ok(Some(image))
    }

    /// The source's nominal frame rate, Hz (`CAP_PROP_FPS`); `None` when the backend does not
    /// report a positive finite one.
    pub fn nominal_fps(&self) -> Option<f64> {
        let fps = self.capture.get(videoio::CAP_PROP_FPS).ok()?;
        (fps.is_finite() && fps > 0.0).then_some(fps)
    }

    /// Frames read and read failures so far.
    pub fn counters(&self) -> CameraCounters {
        self.counters
    }

    /// The URI the source was opened with.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The parsed form of [`CameraSource::uri`].
    pub fn source(&self) -> &CameraUri {
        &self.source
    }

    /// The camera's id, copied into every image.
    pub fn camera_id(&self) -> SensorId {
        self.camera_id
    }

    /// Name of the OpenCV backend reading the source (`FFMPEG`, `V4L2`, `GSTREAMER`,
    /// `CV_MJPEG`, …), for logs and health reports.
    pub fn backend_name(&self) -> Option<String> {
        self.capture.get_backend_name().ok()
    }

    fn read_error(&self, reason: String) -> CameraError {
        CameraError::Read { uri: self.uri.clone(), reason }
    }

    fn frame_error(&self, reason: String) -> CameraError {
        CameraError::Frame { uri: self.uri.clone(), reason }
    }
}

/// Checks that this OpenCV build has the backend a URI needs, so the error says so.
fn require_backend(api: i32, name: &str) -> Result<(), String> {
    let api = VideoCaptureAPIs::try_from(api).map_err(|error| format!("OpenCV backend {name}: {error}"))?;
    match videoio::has_backend(api) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("this OpenCV build has no {name} backend")),
        Err(error) => Err(format!("OpenCV backend query: {error}")),
    }
}

/// A timeout in ms as OpenCV's `int` property value.
fn clamp_ms(timeout_ms: u32) -> i32 {
    i32::try_from(timeout_ms).unwrap_or(i32::MAX)
}

/// Writes `images` to `path` as Motion-JPEG (`MJPG`) in an AVI container at `fps` frames per
/// second, with OpenCV's built-in MJPEG writer (`CAP_OPENCV_MJPEG`, JPEG quality 95), so the
/// bytes do not depend on the FFmpeg version. Every image must have the first one's size; RGB8,
/// BGR8 and Mono8 images are accepted (grey is written as colour).
///
/// Returns the number of frames written.
///
/// # Errors
/// [`CameraError::Write`] for no image, a size that differs from the first image's, a
/// non-positive or non-finite `fps`, or when OpenCV cannot create or write the file.
pub fn write_video<'a>(
    path: &Path,
    images: impl IntoIterator<Item = &'a Image>,
    fps: f64,
) -> Result<u64, CameraError> {
    let write_error = |reason: String| CameraError::Write { path: path.to_owned(), reason };
    let cv_error = |what: &str, error: opencv::Error| write_error(format!("{what}: OpenCV: {error}"));
    if !fps.is_finite() || fps <= 0.0 {
        return Err(write_error(format!("frame rate {fps} Hz is not positive")));
    }
    let mut images = images.into_iter().peekable();
    let Some(first) = images.peek() else {
        return Err(write_error("no image to write".to_owned()));
    };
    let (width_px, height_px) = (first.width_px, first.height_px);
    let (Ok(cols), Ok(rows)) = (i32::try_from(width_px), i32::try_from(height_px)) else {
        return Err(write_error(format!("image size {width_px}x{height_px} too large")));
    };
    let fourcc = VideoWriter::fourcc('M', 'J', 'P', 'G').map_err(|error| cv_error("fourcc", error))?;
    let mut writer = VideoWriter::new_with_backend(
        path,
        videoio::CAP_OPENCV_MJPEG,
        fourcc,
        fps,
        Size::new(cols, rows),
        true,
    )
    .map_err(|error| cv_error("create", error))?;
    if !writer.is_opened().map_err(|error| cv_error("create", error))? {
        return Err(write_error("OpenCV's MJPEG writer did not open the file".to_owned()));
    }
    let mut input = Mat::new_rows_cols_with_default(rows, cols, opencv::core::CV_8UC3, Scalar::all(0.0))
        .map_err(|error| cv_error("allocate", error))?;
    let mut grey = Mat::new_rows_cols_with_default(rows, cols, opencv::core::CV_8UC1, Scalar::all(0.0))
        .map_err(|error| cv_error("allocate", error))?;
    let mut bgr = Mat::default();
    let mut frames_written = 0_u64;
    for image in images {
        if (image.width_px, image.height_px) != (width_px, height_px) {
            return Err(write_error(format!(
                "frame {frames_written} is {}x{}, the first was {width_px}x{height_px}",
                image.width_px, image.height_px
            )));
        }
        let (source, code) = match image.pixel_format {
            PixelFormat::Rgb8 => (&mut input, Some(imgproc::COLOR_RGB2BGR)),
            PixelFormat::Bgr8 => (&mut input, None),
            PixelFormat::Mono8 => (&mut grey, Some(imgproc::COLOR_GRAY2BGR)),
        };
        let bytes = source.data_bytes_mut().map_err(|error| cv_error("frame bytes", error))?;
        if bytes.len() != image.data().len() {
            return Err(write_error(format!(
                "frame {frames_written}: buffer of {} bytes",
                image.data().len()
            )));
        }
        bytes.copy_from_slice(image.data());
        let frame = match code {
            Some(code) => {
                imgproc::cvt_color_def(&*source, &mut bgr, code)
                    .map_err(|error| cv_error("colour conversion", error))?;
                &bgr
            }
            None => &*source,
        };
        writer.write(frame).map_err(|error| cv_error("write", error))?;
        frames_written += 1;
    }
    writer.release().map_err(|error| cv_error("close", error))?;
    Ok(frames_written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_uri_form() {
        assert_eq!(
            CameraUri::parse("v4l2:/dev/video0").ok(),
            Some(CameraUri::V4l2Device("/dev/video0".into()))
        );
        assert_eq!(CameraUri::parse("v4l2:2").ok(), Some(CameraUri::V4l2Index(2)));
        assert_eq!(
            CameraUri::parse("rtsp://10.0.0.5:554/cam").ok(),
            Some(CameraUri::Stream("rtsp://10.0.0.5:554/cam".into()))
        );
        assert_eq!(
            CameraUri::parse("gst:videotestsrc ! videoconvert ! appsink").ok(),
            Some(CameraUri::Gstreamer("videotestsrc ! videoconvert ! appsink".into()))
        );
        assert_eq!(CameraUri::parse("file:/data/a.avi").ok(), Some(CameraUri::File("/data/a.avi".into())));
        assert_eq!(CameraUri::parse("clips/a.mp4").ok(), Some(CameraUri::File("clips/a.mp4".into())));
    }

    #[test]
    fn rejects_empty_targets_naming_the_uri() {
        for uri in ["", "v4l2:", "v4l2:-1", "gst: ", "file:", "v4l2:99999999999"] {
            let Err(CameraError::Uri { uri: named, .. }) = CameraUri::parse(uri) else {
                panic!("`{uri}` parsed");
            };
            assert_eq!(named, uri);
        }
    }

    #[test]
    fn camera_source_can_move_to_a_capture_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<CameraSource>();
    }
}
