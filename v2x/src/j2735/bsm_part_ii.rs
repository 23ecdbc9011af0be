//! BSM Part II content decoded on request: `VehicleSafetyExtensions` (`partII-Id` 0, SAE
//! J2735 2024 clause 6.141). The other Part II contents (special and supplemental vehicle
//! extensions) stay opaque in [`BsmPartIiExtension::part_ii_value`].

use rasn::prelude::*;

use super::bsm::BsmPartIiExtension;
use super::psm::{PathHistory, PathPrediction};
use super::sdsm::ExteriorLights;
use crate::V2xError;

/// `partII-Id` of `VehicleSafetyExtensions`.
pub const VEHICLE_SAFETY_EXTENSIONS_ID: u8 = 0;

/// `VehicleEventFlags` (BIT STRING, 13 named bits `eventHazardLights` .. `eventAirBagDeployment`,
/// SIZE(13, ...)). J2735 2020 made the size extensible for `eventJackKnife`; this follows the
/// SIZE(13, ...) form the USDOT ODE decoder uses, which 2016-2020 encoders produce.
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq, Eq, Hash)]
#[rasn(delegate, size("13", extensible))]
pub struct VehicleEventFlags(pub BitString);

/// `VehicleSafetyExtensions` (SEQUENCE, extensible): events, path history, path prediction,
/// exterior lights.
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct VehicleSafetyExtensions {
    /// `events`
    pub events: Option<VehicleEventFlags>,
    /// `pathHistory`: recent positions as offsets from the BSM position (breadcrumbs).
    pub path_history: Option<PathHistory>,
    /// `pathPrediction`: radius of curvature and confidence.
    pub path_prediction: Option<PathPrediction>,
    /// `lights`
    pub lights: Option<ExteriorLights>,
}

impl BsmPartIiExtension {
    /// Decodes the value when it is a `VehicleSafetyExtensions` (`partII-Id` 0); `None` for
    /// other ids.
    ///
    /// # Errors
    /// [`V2xError::Message`] when the open type's octets do not decode.
    pub fn vehicle_safety_extensions(&self) -> Option<Result<VehicleSafetyExtensions, V2xError>> {
        (self.part_ii_id.0 == VEHICLE_SAFETY_EXTENSIONS_ID).then(|| {
            rasn::uper::decode(self.part_ii_value.as_bytes()).map_err(|error| V2xError::Message {
                message: "BSM VehicleSafetyExtensions",
                message_id: super::message_id::BSM,
                offset_bytes: 0,
                reason: error.to_string(),
            })
        })
    }
}
