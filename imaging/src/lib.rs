//! Image decoding and letterbox resampling for the camera detector.
//!
//! Kept in its own crate because the `image` and `fast_image_resize` generics are slow to
//! compile; the detector crate stays quick to rebuild.
//!
//! Inputs: encoded PNG/JPEG bytes, decoded [`Image`]s and a model's [`InputContract`].
//! Outputs: RGB [`Image`]s and NCHW float32 input tensors with the [`Letterbox`] geometry that
//! maps detections back to original pixels.
//!
//! With the cargo feature `opencv`: the `camera` module, live camera input and video files
//! through OpenCV.

use std::path::Path;

use fast_image_resize::images::{Image as ResizeImage, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use pitsense_models::{ChannelOrder, InputContract, LetterboxPlacement, ResizeFilter};
use pitsense_types::{Header, Image, PixelFormat, SensorId};

#[cfg(feature = "opencv")]
pub mod camera;

/// Why an image could not be decoded or prepared.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// The file could not be read.
    #[error("image `{}`: {source}", path.display())]
    Io {
        /// File tried.
        path: std::path::PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The bytes are not a decodable PNG/JPEG.
    #[error("image `{name}`: cannot decode: {reason}")]
    Decode {
        /// File name or source label.
        name: String,
        /// Decoder message.
        reason: String,
    },
    /// The decoded image is unusable (zero size, too large).
    #[error("image `{name}`: {reason}")]
    Invalid {
        /// File name or source label.
        name: String,
        /// Why.
        reason: String,
    },
    /// The resampler refused the input.
    #[error("letterbox of a {width_px}x{height_px} image: {reason}")]
    Resize {
        /// Source width.
        width_px: u32,
        /// Source height.
        height_px: u32,
        /// Resampler message.
        reason: String,
    },
}

/// Largest side accepted from a file, pixels: bounds memory on corrupt or hostile headers.
pub const MAX_SIDE_PX: u32 = 16_384;

/// Decodes PNG or JPEG bytes into an RGB8 [`Image`].
///
/// `name` labels errors (the file path); `header` and `camera_id` are copied into the image.
///
/// # Errors
/// [`ImagingError::Decode`] for corrupt or unsupported bytes, [`ImagingError::Invalid`] for a
/// zero-sized or larger than [`MAX_SIDE_PX`] image.
pub fn decode_image(
    bytes: &[u8],
    name: &str,
    header: Header,
    camera_id: SensorId,
) -> Result<Image, ImagingError> {
    let decode_error =
        |error: image::ImageError| ImagingError::Decode { name: name.to_owned(), reason: error.to_string() };
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| ImagingError::Decode { name: name.to_owned(), reason: error.to_string() })?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    let mut reader = reader;
    reader.limits(limits);
    let decoded = reader.decode().map_err(decode_error)?.into_rgb8();
    let (width_px, height_px) = decoded.dimensions();
    Image::new(header, camera_id, width_px, height_px, PixelFormat::Rgb8, decoded.into_raw())
        .map_err(|error| ImagingError::Invalid { name: name.to_owned(), reason: error.to_string() })
}

/// Encodes `image` as a baseline JPEG (the `image` crate's encoder, 4:2:0 chroma) at `quality`
/// (1..=100, clamped), for recording frames that arrived decoded (live cameras, video files):
/// a 1224 × 370 KITTI frame at quality 90 is 250 kB instead of 1.36 MB raw, encoded in about
/// 16 ms (release build, one core of this project's 2-core CI machine).
///
/// # Errors
/// [`ImagingError::Invalid`] naming the camera when the encoder refuses the image.
pub fn encode_jpeg(image: &Image, quality: u8) -> Result<Vec<u8>, ImagingError> {
    use image::ImageEncoder as _;
    let (bytes, color) = match image.pixel_format {
        PixelFormat::Rgb8 => (std::borrow::Cow::Borrowed(image.data()), image::ExtendedColorType::Rgb8),
        PixelFormat::Bgr8 => {
            let rgb: Vec<u8> =
                image.data().chunks_exact(3).flat_map(|bgr| [bgr[2], bgr[1], bgr[0]]).collect();
            (std::borrow::Cow::Owned(rgb), image::ExtendedColorType::Rgb8)
        }
        PixelFormat::Mono8 => (std::borrow::Cow::Borrowed(image.data()), image::ExtendedColorType::L8),
    };
    let mut out = Vec::with_capacity(bytes.len() / 8);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .write_image(&bytes, image.width_px, image.height_px, color)
        .map_err(|e| ImagingError::Invalid {
            name: format!("camera {} frame at {} ns", image.camera_id, image.header.stamp_ns),
            reason: format!("JPEG encoding: {e}"),
        })?;
    Ok(out)
}

/// The top-left `width_px` × `height_px` of an RGB8 image (KITTI's images differ by a few pixels
/// in size and a video file has one frame size).
///
/// # Errors
/// [`ImagingError::Invalid`] for an image that is not RGB8 or smaller than the crop.
pub fn crop_top_left(image: &Image, width_px: u32, height_px: u32) -> Result<Image, ImagingError> {
    let invalid = |reason: String| ImagingError::Invalid { name: "crop".into(), reason };
    if image.pixel_format != PixelFormat::Rgb8 {
        return Err(invalid(format!("{:?} image: only RGB8 is cropped", image.pixel_format)));
    }
    if width_px > image.width_px || height_px > image.height_px {
        return Err(invalid(format!(
            "{width_px}x{height_px} does not fit the {}x{} image",
            image.width_px, image.height_px
        )));
    }
    let row_bytes = image.width_px as usize * 3;
    let keep_bytes = width_px as usize * 3;
    let data: Vec<u8> = image
        .data()
        .chunks_exact(row_bytes)
        .take(height_px as usize)
        .flat_map(|row| row.iter().take(keep_bytes).copied())
        .collect();
    Image::new(image.header, image.camera_id, width_px, height_px, PixelFormat::Rgb8, data)
        .map_err(|error| invalid(error.to_string()))
}

/// Reads and decodes an image file (see [`decode_image`]).
///
/// # Errors
/// [`ImagingError::Io`] when unreadable, else as [`decode_image`].
pub fn read_image(path: &Path, header: Header, camera_id: SensorId) -> Result<Image, ImagingError> {
    let bytes = std::fs::read(path).map_err(|source| ImagingError::Io { path: path.to_owned(), source })?;
    decode_image(&bytes, &path.display().to_string(), header, camera_id)
}

/// Geometry of one letterbox: how original pixels map onto the network input.
///
/// A point `(u, v)` of the original image lands at `(u * scale + offset_x_px, v * scale +
/// offset_y_px)` on the input canvas; [`Letterbox::to_original`] inverts that.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Letterbox {
    /// Scale factor `r = min(input_w / w, input_h / h)`.
    pub scale: f64,
    /// Width of the resized image on the canvas, `floor(w * r)`, pixels.
    pub resized_width_px: u32,
    /// Height of the resized image on the canvas, `floor(h * r)`, pixels.
    pub resized_height_px: u32,
    /// Left padding, pixels (0 for top-left placement).
    pub offset_x_px: u32,
    /// Top padding, pixels (0 for top-left placement).
    pub offset_y_px: u32,
}

impl Letterbox {
    /// Computes the letterbox of a `width_px` × `height_px` image for `contract`.
    ///
    /// Follows the YOLOX reference preprocessing (`yolox/data/data_augment.py::preproc`):
    /// `r = min(H / h, W / w)`, resized size `(int(w r), int(h r))`, clamped to at least 1 pixel.
    pub fn new(width_px: u32, height_px: u32, contract: &InputContract) -> Self {
        let scale = (f64::from(contract.height_px) / f64::from(height_px))
            .min(f64::from(contract.width_px) / f64::from(width_px));
        let resized_width_px = ((f64::from(width_px) * scale) as u32).clamp(1, contract.width_px);
        let resized_height_px = ((f64::from(height_px) * scale) as u32).clamp(1, contract.height_px);
        let (offset_x_px, offset_y_px) = match contract.letterbox {
            LetterboxPlacement::TopLeft => (0, 0),
            LetterboxPlacement::Centre => {
                ((contract.width_px - resized_width_px) / 2, (contract.height_px - resized_height_px) / 2)
            }
        };
        Self { scale, resized_width_px, resized_height_px, offset_x_px, offset_y_px }
    }

    /// Maps a canvas point (network input pixels) back to original-image pixels.
    pub fn to_original(&self, x_px: f64, y_px: f64) -> (f64, f64) {
        ((x_px - f64::from(self.offset_x_px)) / self.scale, (y_px - f64::from(self.offset_y_px)) / self.scale)
    }
}

/// Builds network input tensors, reusing its buffers from frame to frame.
pub struct LetterboxResizer {
    contract: InputContract,
    resizer: Resizer,
    resized: Vec<u8>,
}

impl std::fmt::Debug for LetterboxResizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LetterboxResizer").field("contract", &self.contract).finish_non_exhaustive()
    }
}

impl LetterboxResizer {
    /// A resizer for one model's input contract.
    pub fn new(contract: InputContract) -> Self {
        Self { contract, resizer: Resizer::new(), resized: Vec::new() }
    }

    /// The contract this resizer fills.
    pub fn contract(&self) -> &InputContract {
        &self.contract
    }

    /// Letterboxes `image` into `tensor`, a float32 NCHW `[1, 3, H, W]` buffer (resized in place
    /// to `3 * H * W`), in the contract's channel order, multiplied by its `pixel_scale`.
    ///
    /// The resize uses the contract's filter; `bilinear_antialiased` is Pillow's BILINEAR
    /// (a convolution whose support scales with the downscale factor), which
    /// `fast_image_resize`'s `Convolution(Bilinear)` reproduces.
    ///
    /// # Errors
    /// [`ImagingError::Resize`] if the resampler refuses the buffer.
    pub fn letterbox(&mut self, image: &Image, tensor: &mut Vec<f32>) -> Result<Letterbox, ImagingError> {
        let geometry = Letterbox::new(image.width_px, image.height_px, &self.contract);
        let resize_error = |reason: String| ImagingError::Resize {
            width_px: image.width_px,
            height_px: image.height_px,
            reason,
        };
        let pixel_type = match image.pixel_format {
            PixelFormat::Rgb8 | PixelFormat::Bgr8 => PixelType::U8x3,
            PixelFormat::Mono8 => PixelType::U8,
        };
        let source = ImageRef::new(image.width_px, image.height_px, image.data(), pixel_type)
            .map_err(|error| resize_error(error.to_string()))?;
        let channels = image.pixel_format.channels();
        self.resized.clear();
        self.resized
            .resize(geometry.resized_width_px as usize * geometry.resized_height_px as usize * channels, 0);
        let mut destination = ResizeImage::from_slice_u8(
            geometry.resized_width_px,
            geometry.resized_height_px,
            &mut self.resized,
            pixel_type,
        )
        .map_err(|error| resize_error(error.to_string()))?;
        let algorithm = match self.contract.resize_filter {
            ResizeFilter::BilinearAntialiased => ResizeAlg::Convolution(FilterType::Bilinear),
            ResizeFilter::Bilinear => ResizeAlg::Interpolation(FilterType::Bilinear),
        };
        self.resizer
            .resize(&source, &mut destination, &ResizeOptions::new().resize_alg(algorithm))
            .map_err(|error| resize_error(error.to_string()))?;

        let (width, height) = (self.contract.width_px as usize, self.contract.height_px as usize);
        let plane = width * height;
        let scale = self.contract.pixel_scale;
        tensor.clear();
        tensor.resize(3 * plane, f32::from(self.contract.pad_value) * scale);
        // Plane index of each source channel (R, G, B) in the tensor.
        let source_is_bgr = image.pixel_format == PixelFormat::Bgr8;
        let wants_bgr = self.contract.channel_order == ChannelOrder::Bgr;
        let plane_of = |channel: usize| if source_is_bgr == wants_bgr { channel } else { 2 - channel };
        let resized_width = geometry.resized_width_px as usize;
        for (row, pixels) in self.resized.chunks_exact(resized_width * channels).enumerate() {
            let canvas_row = (row + geometry.offset_y_px as usize) * width + geometry.offset_x_px as usize;
            for (column, pixel) in pixels.chunks_exact(channels).enumerate() {
                let index = canvas_row + column;
                for channel in 0..3 {
                    let value = pixel.get(channel.min(channels - 1)).copied().unwrap_or(0);
                    if let Some(slot) = tensor.get_mut(plane_of(channel) * plane + index) {
                        *slot = f32::from(value) * scale;
                    }
                }
            }
        }
        Ok(geometry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitsense_types::FrameId;

    fn contract() -> InputContract {
        pitsense_models::builtin_manifest("yolox_nano").unwrap().input
    }

    fn header() -> Header {
        Header { stamp_ns: 0, frame: FrameId::ImagePixels(2), seq: 0 }
    }

    #[test]
    fn crop_keeps_the_top_left_pixels_and_refuses_what_does_not_fit() {
        // 3×2 RGB8: pixel (x, y) = [10y + x, 100, 200].
        let data: Vec<u8> =
            (0..2u8).flat_map(|y| (0..3u8).flat_map(move |x| [10 * y + x, 100, 200])).collect();
        let image = Image::new(header(), 2, 3, 2, PixelFormat::Rgb8, data).unwrap();
        let cropped = crop_top_left(&image, 2, 2).unwrap();
        assert_eq!((cropped.width_px, cropped.height_px), (2, 2));
        assert_eq!(cropped.data(), [0, 100, 200, 1, 100, 200, 10, 100, 200, 11, 100, 200]);
        assert_eq!(cropped.header, image.header);
        assert!(matches!(crop_top_left(&image, 4, 1), Err(ImagingError::Invalid { .. })));
    }

    #[test]
    fn letterbox_geometry_of_a_kitti_image() {
        // 1224x370: r = min(416/370, 416/1224) = 0.339869...; int(370 r) = 125.
        let geometry = Letterbox::new(1224, 370, &contract());
        assert_eq!((geometry.resized_width_px, geometry.resized_height_px), (416, 125));
        assert_eq!((geometry.offset_x_px, geometry.offset_y_px), (0, 0));
        let (u, v) = geometry.to_original(416.0, 125.0);
        assert!((u - 1224.0).abs() < 1e-9 && (v - 125.0 / geometry.scale).abs() < 1e-9);
    }

    #[test]
    fn a_uniform_image_fills_the_canvas_in_bgr_and_pads_with_114() {
        let data: Vec<u8> = std::iter::repeat_n([10u8, 20, 30], 8 * 4).flatten().collect();
        let image = Image::new(header(), 2, 8, 4, PixelFormat::Rgb8, data).unwrap();
        let mut resizer = LetterboxResizer::new(contract());
        let mut tensor = Vec::new();
        let geometry = resizer.letterbox(&image, &mut tensor).unwrap();
        // r = min(416/4, 416/8) = 52 -> 416 x 208 at the top-left.
        assert_eq!((geometry.resized_width_px, geometry.resized_height_px), (416, 208));
        let plane = 416 * 416;
        assert_eq!(tensor.len(), 3 * plane);
        // Planes are B, G, R.
        assert_eq!((tensor[0], tensor[plane], tensor[2 * plane]), (30.0, 20.0, 10.0));
        // Row 208 is padding.
        let pad_index = 208 * 416 + 5;
        assert_eq!((tensor[pad_index], tensor[plane + pad_index]), (114.0, 114.0));
    }

    #[test]
    fn corrupt_bytes_name_the_source() {
        let error = decode_image(b"\x89PNG\r\n\x1a\nbroken", "frame.png", header(), 2).unwrap_err();
        assert!(error.to_string().starts_with("image `frame.png`: cannot decode"), "{error}");
    }
}
