//! A road-side unit for HIL runs: SAE J3224 `SensorDataSharingMessage`s (J2735 messageId 41,
//! UPER) describing the scenario's actors, and — the `rsu_spoof` fault — objects no real RSU
//! could report: far outside its detection range, or moving at impossible speeds.
//!
//! Messages are built from a real SDSM (the jpo-ode sample in the data root,
//! [`TEMPLATE_SAMPLE`]): its header is kept, and `msgCnt`, `sDSMTimeStamp.second` (the UTC
//! millisecond of the minute), `refPos` and the object list are replaced. Object fields (J3224
//! `DetectedObjectCommonData`): `pos` offsets from `refPos` east and north in 0.1 m
//! (±3276.7 m), `speed` in 0.02 m/s, `heading` clockwise from north in 0.0125°, `measurementTime`
//! 0 (measured at the message's time). `pitsense-v2x`'s encoder writes the frame.

use std::path::Path;

use pitsense_types::nalgebra::Point3;
use pitsense_v2x::geodesy::SiteFrame;
use pitsense_v2x::j2735::common::{DSecond, Heading, Latitude, Longitude, MsgCount, Speed};
use pitsense_v2x::j2735::sdsm::{
    DetectedObjectData, DetectedObjectList, MeasurementTimeOffset, ObjectDistance, ObjectId, ObjectType,
    SensorDataSharingMessage,
};
use pitsense_v2x::j2735::{J2735Message, decode_frame, encode_frame};

/// The SDSM sample the messages are built from, relative to the data root.
pub const TEMPLATE_SAMPLE: &str = "v2x/j2735/jpo-ode_decoded_samples/decoder-output-sdsm.xml";

/// Why the RSU cannot be set up or a message built.
#[derive(Debug, thiserror::Error)]
#[error("RSU: {0}")]
pub struct RsuError(pub String);

/// One object an SDSM reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RsuObject {
    /// `objectID`.
    pub id: u16,
    /// A vulnerable road user (else a vehicle).
    pub vru: bool,
    /// Position in the site frame (east, north), m.
    pub site_m: [f64; 2],
    /// Speed over ground, m/s.
    pub speed_mps: f64,
    /// Heading, rad counter-clockwise from east (site frame).
    pub yaw_rad: f64,
}

/// An RSU at a fixed site position.
#[derive(Clone, Debug)]
pub struct Rsu {
    template: SensorDataSharingMessage,
    ref_site_m: [f64; 2],
}

impl Rsu {
    /// An RSU at `ref_site_m` (site frame east, north) of `site`, its messages built from the
    /// sample under `data_root`.
    ///
    /// # Errors
    /// [`RsuError`] when the sample cannot be read or decoded, or holds no object.
    pub fn new(data_root: &Path, site: &SiteFrame, ref_site_m: [f64; 2]) -> Result<Self, RsuError> {
        let path = data_root.join(TEMPLATE_SAMPLE);
        let text =
            std::fs::read_to_string(&path).map_err(|e| RsuError(format!("`{}`: {e}", path.display())))?;
        let hex = text
            .split_once("<asn1>")
            .and_then(|(_, rest)| rest.split_once("</asn1>"))
            .map(|(hex, _)| hex.trim())
            .ok_or_else(|| RsuError(format!("`{}`: no <asn1> payload", path.display())))?;
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| RsuError(format!("`{}`: payload is not hex: {e}", path.display())))?;
        let (message, _) =
            decode_frame(&bytes).map_err(|e| RsuError(format!("`{}`: {e}", path.display())))?;
        let J2735Message::Sdsm(mut template) = message else {
            return Err(RsuError(format!("`{}`: not an SDSM", path.display())));
        };
        if template.objects.0.is_empty() {
            return Err(RsuError(format!("`{}`: SDSM without an object", path.display())));
        }
        let position = site.geodetic_from_site(&Point3::new(ref_site_m[0], ref_site_m[1], 0.0));
        template.ref_pos.lat = Latitude((position.lat_deg * 1e7).round() as i32);
        template.ref_pos.long = Longitude((position.lon_deg * 1e7).round() as i32);
        template.ref_pos.elevation = None;
        Ok(Self { template, ref_site_m })
    }

    /// One SDSM frame (UPER) for `objects`, sent at `utc_ns` (ns since the Unix epoch).
    ///
    /// # Errors
    /// [`RsuError`] when the encoder refuses a value.
    pub fn datagram(&self, msg_cnt: u8, utc_ns: u64, objects: &[RsuObject]) -> Result<Vec<u8>, RsuError> {
        let mut message = self.template.clone();
        message.msg_cnt = MsgCount(msg_cnt & 0x7f);
        message.sdsm_time_stamp.second = Some(DSecond(((utc_ns / 1_000_000) % 60_000) as u16));
        let prototype = self.template.objects.0[0].clone();
        message.objects = DetectedObjectList(
            objects
                .iter()
                .take(255)
                .map(|object| self.object(&prototype, object))
                .collect::<Vec<DetectedObjectData>>(),
        );
        if message.objects.0.is_empty() {
            return Err(RsuError("an SDSM needs at least one object".into()));
        }
        encode_frame(&J2735Message::Sdsm(message)).map_err(|e| RsuError(e.to_string()))
    }

    fn object(&self, prototype: &DetectedObjectData, object: &RsuObject) -> DetectedObjectData {
        let mut data = prototype.clone();
        data.det_obj_opt_data = None;
        let common = &mut data.det_obj_common;
        common.obj_type = if object.vru { ObjectType::Vru } else { ObjectType::Vehicle };
        common.object_id = ObjectId(object.id);
        common.measurement_time = MeasurementTimeOffset(0);
        let decimetres = |m: f64| ObjectDistance((m * 10.0).round().clamp(-32_767.0, 32_767.0) as i16);
        common.pos.offset_x = decimetres(object.site_m[0] - self.ref_site_m[0]);
        common.pos.offset_y = decimetres(object.site_m[1] - self.ref_site_m[1]);
        common.pos.offset_z = None;
        common.speed = Speed((object.speed_mps / 0.02).round().clamp(0.0, 8190.0) as u16);
        let heading_deg = (90.0 - object.yaw_rad.to_degrees()).rem_euclid(360.0);
        common.heading = Heading(((heading_deg / 0.0125).round() as u16).min(28_799));
        data
    }
}
