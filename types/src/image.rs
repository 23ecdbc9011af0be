use serde::{Deserialize, Serialize};

use crate::{Header, SensorId};

/// Pixel layout of an [`Image`]'s `data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PixelFormat {
    /// 8-bit red, green, blue, interleaved, row-major.
    Rgb8,
    /// 8-bit blue, green, red, interleaved, row-major (OpenCV's order).
    Bgr8,
    /// 8-bit grey.
    Mono8,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Rgb8 | PixelFormat::Bgr8 => 3,
            PixelFormat::Mono8 => 1,
        }
    }
}

/// Why an [`Image`] could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    /// The buffer length does not match width × height × channels.
    #[error("image buffer holds {actual} bytes but {width_px}x{height_px} {format:?} needs {expected}")]
    BufferSize {
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
        /// Pixel format.
        format: PixelFormat,
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// Width or height is zero.
    #[error("image has zero size ({width_px}x{height_px})")]
    Empty {
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
    },
}

/// A decoded camera image: `height_px` rows of `width_px` pixels, row-major, no padding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Exposure time (middle of exposure where known), frame [`crate::FrameId::ImagePixels`].
    pub header: Header,
    /// Which camera took it.
    pub camera_id: SensorId,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
    /// Layout of `data`.
    pub pixel_format: PixelFormat,
    /// Pixel bytes, `width_px * height_px * pixel_format.channels()` long.
    data: Vec<u8>,
}

impl Image {
    /// Builds an image, checking that `data` has exactly the size its dimensions need.
    ///
    /// # Errors
    /// [`ImageError::Empty`] for a zero dimension, [`ImageError::BufferSize`] for a wrong length.
    pub fn new(
        header: Header,
        camera_id: SensorId,
        width_px: u32,
        height_px: u32,
        pixel_format: PixelFormat,
        data: Vec<u8>,
    ) -> Result<Self, ImageError> {
        if width_px == 0 || height_px == 0 {
            return Err(ImageError::Empty { width_px, height_px });
        }
        let expected = width_px as usize * height_px as usize * pixel_format.channels();
        if data.len() != expected {
            return Err(ImageError::BufferSize {
                width_px,
                height_px,
                format: pixel_format,
                expected,
                actual: data.len(),
            });
        }
        Ok(Self { header, camera_id, width_px, height_px, pixel_format, data })
    }

    /// The pixel bytes (row-major, interleaved channels, no row padding).
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}
