//! SI conversions of the J2735/J3224 data elements that carry physical values.
//!
//! Each method returns `None` for the element's "unavailable" value (SAE J2735 2024 clause 7
//! data element definitions; SAE J3224 for the SDSM elements). Angles keep the J2735
//! convention (clockwise from true north) unless the name says `enu`.

use std::f64::consts::{PI, TAU};

use super::common::*;
use super::map::{OffsetB10, OffsetB11, OffsetB12, OffsetB13, OffsetB14, OffsetB16};
use super::sdsm::{
    ClassificationConfidence, MeasurementTimeOffset, ObjectDistance, SizeValue, SizeValueConfidence,
    VehicleHeight,
};
use super::spat::TimeMark;

impl Latitude {
    /// Degrees north (WGS-84); `None` when unavailable (900000001).
    pub fn degrees(self) -> Option<f64> {
        (self.0 != 900_000_001).then(|| f64::from(self.0) * 1e-7)
    }
}

impl Longitude {
    /// Degrees east (WGS-84); `None` when unavailable (1800000001).
    pub fn degrees(self) -> Option<f64> {
        (self.0 != 1_800_000_001).then(|| f64::from(self.0) * 1e-7)
    }
}

impl Elevation {
    /// Metres above the WGS-84 ellipsoid; `None` when unavailable (-4096).
    pub fn metres(self) -> Option<f64> {
        (self.0 != -4096).then(|| f64::from(self.0) * 0.1)
    }
}

impl Speed {
    /// Metres per second; `None` when unavailable (8191).
    pub fn metres_per_second(self) -> Option<f64> {
        (self.0 != 8191).then(|| f64::from(self.0) * 0.02)
    }
}

impl Velocity {
    /// Metres per second; `None` when unavailable (8191).
    pub fn metres_per_second(self) -> Option<f64> {
        (self.0 != 8191).then(|| f64::from(self.0) * 0.02)
    }
}

impl Heading {
    /// Radians clockwise from true north in `[0, 2π)`; `None` when unavailable (28800).
    pub fn radians(self) -> Option<f64> {
        (self.0 < 28_800).then(|| (f64::from(self.0) * 0.0125).to_radians())
    }

    /// The heading as a yaw in a local east-north-up frame: radians counter-clockwise from
    /// east, in `(-π, π]`; `None` when unavailable.
    pub fn enu_yaw_rad(self) -> Option<f64> {
        self.radians().map(enu_yaw_from_heading_rad)
    }
}

/// Converts a J2735 heading (radians clockwise from north) to an ENU yaw (radians
/// counter-clockwise from east) in `(-π, π]`.
pub fn enu_yaw_from_heading_rad(heading_rad: f64) -> f64 {
    wrap_angle_rad(PI / 2.0 - heading_rad)
}

/// Wraps an angle to `(-π, π]`.
pub fn wrap_angle_rad(angle_rad: f64) -> f64 {
    let wrapped = (angle_rad + PI).rem_euclid(TAU) - PI;
    if wrapped <= -PI { wrapped + TAU } else { wrapped }
}

impl DSecond {
    /// Milliseconds within the UTC minute (60000..=60999 during a leap second); `None` when
    /// unavailable (65535) or reserved (61000..=65534).
    pub fn milliseconds(self) -> Option<u16> {
        (self.0 < 61_000).then_some(self.0)
    }
}

impl SemiMajorAxisAccuracy {
    /// One-sigma semi-major axis, metres (12.7 m means "12.7 m or more"); `None` when
    /// unavailable (255).
    pub fn metres(self) -> Option<f64> {
        (self.0 != 255).then(|| f64::from(self.0) * 0.05)
    }
}

impl SemiMinorAxisAccuracy {
    /// One-sigma semi-minor axis, metres (12.7 m means "12.7 m or more"); `None` when
    /// unavailable (255).
    pub fn metres(self) -> Option<f64> {
        (self.0 != 255).then(|| f64::from(self.0) * 0.05)
    }
}

impl SemiMajorAxisOrientation {
    /// Orientation of the semi-major axis, radians clockwise from true north; `None` when
    /// unavailable (65535).
    pub fn radians(self) -> Option<f64> {
        (self.0 != 65_535).then(|| (f64::from(self.0) * 360.0 / 65_535.0).to_radians())
    }
}

impl Acceleration {
    /// Metres per second squared (±20 means "at least"); `None` when unavailable (2001).
    pub fn metres_per_second2(self) -> Option<f64> {
        (self.0 != 2001).then(|| f64::from(self.0) * 0.01)
    }
}

impl VerticalAcceleration {
    /// Metres per second squared (units of 0.02 G); `None` when unavailable (-127).
    pub fn metres_per_second2(self) -> Option<f64> {
        (self.0 != -127).then(|| f64::from(self.0) * 0.02 * 9.806_65)
    }
}

impl YawRate {
    /// Radians per second, sign as sent (units of 0.01 degree/s).
    pub fn radians_per_second(self) -> f64 {
        (f64::from(self.0) * 0.01).to_radians()
    }
}

impl VehicleWidth {
    /// Metres; `None` when unavailable (0).
    pub fn metres(self) -> Option<f64> {
        (self.0 != 0).then(|| f64::from(self.0) * 0.01)
    }
}

impl VehicleLength {
    /// Metres; `None` when unavailable (0).
    pub fn metres(self) -> Option<f64> {
        (self.0 != 0).then(|| f64::from(self.0) * 0.01)
    }
}

impl VehicleHeight {
    /// Metres (units of 5 cm); `None` when unavailable (0).
    pub fn metres(self) -> Option<f64> {
        (self.0 != 0).then(|| f64::from(self.0) * 0.05)
    }
}

impl ObjectDistance {
    /// Metres (units of 0.1 m).
    pub fn metres(self) -> f64 {
        f64::from(self.0) * 0.1
    }
}

impl SizeValue {
    /// Metres (units of 0.1 m); `None` when 0 (no size known).
    pub fn metres(self) -> Option<f64> {
        (self.0 != 0).then(|| f64::from(self.0) * 0.1)
    }
}

impl MeasurementTimeOffset {
    /// Seconds relative to the SDSM time stamp (units of 1 ms).
    pub fn seconds(self) -> f64 {
        f64::from(self.0) * 1e-3
    }
}

impl ClassificationConfidence {
    /// Percent in `0..=100`; `None` when unavailable (101).
    pub fn percent(self) -> Option<u8> {
        (self.0 <= 100).then_some(self.0)
    }
}

impl TimeMark {
    /// Seconds within the current UTC hour (36000 is a leap second, 3600.0 s); `None` when
    /// unknown (36001) or out of range.
    pub fn seconds_in_hour(self) -> Option<f64> {
        (self.0 <= 36_000).then(|| f64::from(self.0) * 0.1)
    }
}

impl MinuteOfTheYear {
    /// Minutes since the start of the UTC year; `None` when unavailable (527040).
    pub fn minutes(self) -> Option<u32> {
        (self.0 < 527_040).then_some(self.0)
    }
}

macro_rules! node_offset_metres {
    ($($ty:ty),*) => {$(
        impl $ty {
            /// Metres (units of 1 cm).
            pub fn metres(self) -> f64 {
                f64::from(self.0) * 0.01
            }
        }
    )*};
}
node_offset_metres!(OffsetB10, OffsetB11, OffsetB12, OffsetB13, OffsetB14, OffsetB16);

impl PositionConfidence {
    /// The horizontal position error bound the value stands for, metres; `None` when
    /// unavailable. SAE J2735 gives these as 95 % bounds.
    pub fn bound_metres(self) -> Option<f64> {
        Some(match self {
            Self::Unavailable => return None,
            Self::A500m => 500.0,
            Self::A200m => 200.0,
            Self::A100m => 100.0,
            Self::A50m => 50.0,
            Self::A20m => 20.0,
            Self::A10m => 10.0,
            Self::A5m => 5.0,
            Self::A2m => 2.0,
            Self::A1m => 1.0,
            Self::A50cm => 0.5,
            Self::A20cm => 0.2,
            Self::A10cm => 0.1,
            Self::A5cm => 0.05,
            Self::A2cm => 0.02,
            Self::A1cm => 0.01,
        })
    }
}

impl ElevationConfidence {
    /// The vertical error bound the value stands for, metres (95 %); `None` when unavailable.
    pub fn bound_metres(self) -> Option<f64> {
        Some(match self {
            Self::Unavailable => return None,
            Self::Elev500_00 => 500.0,
            Self::Elev200_00 => 200.0,
            Self::Elev100_00 => 100.0,
            Self::Elev050_00 => 50.0,
            Self::Elev020_00 => 20.0,
            Self::Elev010_00 => 10.0,
            Self::Elev005_00 => 5.0,
            Self::Elev002_00 => 2.0,
            Self::Elev001_00 => 1.0,
            Self::Elev000_50 => 0.5,
            Self::Elev000_20 => 0.2,
            Self::Elev000_10 => 0.1,
            Self::Elev000_05 => 0.05,
            Self::Elev000_02 => 0.02,
            Self::Elev000_01 => 0.01,
        })
    }
}

impl SpeedConfidence {
    /// The speed error bound the value stands for, m/s (95 %); `None` when unavailable.
    pub fn bound_mps(self) -> Option<f64> {
        Some(match self {
            Self::Unavailable => return None,
            Self::Prec100ms => 100.0,
            Self::Prec10ms => 10.0,
            Self::Prec5ms => 5.0,
            Self::Prec1ms => 1.0,
            Self::Prec0_1ms => 0.1,
            Self::Prec0_05ms => 0.05,
            Self::Prec0_01ms => 0.01,
        })
    }
}

impl HeadingConfidence {
    /// The heading error bound the value stands for, radians (95 %); `None` when unavailable.
    pub fn bound_rad(self) -> Option<f64> {
        let degrees = match self {
            Self::Unavailable => return None,
            Self::Prec10deg => 10.0,
            Self::Prec05deg => 5.0,
            Self::Prec01deg => 1.0,
            Self::Prec0_1deg => 0.1,
            Self::Prec0_05deg => 0.05,
            Self::Prec0_01deg => 0.01,
            Self::Prec0_0125deg => 0.0125,
        };
        Some(f64::to_radians(degrees))
    }
}

impl SizeValueConfidence {
    /// The size error bound the value stands for, metres (95 %); `None` when unavailable.
    pub fn bound_metres(self) -> Option<f64> {
        Some(match self {
            Self::Unavailable => return None,
            Self::Size100_00 => 100.0,
            Self::Size050_00 => 50.0,
            Self::Size020_00 => 20.0,
            Self::Size010_00 => 10.0,
            Self::Size005_00 => 5.0,
            Self::Size002_00 => 2.0,
            Self::Size001_00 => 1.0,
            Self::Size000_50 => 0.5,
            Self::Size000_20 => 0.2,
            Self::Size000_10 => 0.1,
            Self::Size000_05 => 0.05,
            Self::Size000_02 => 0.02,
            Self::Size000_01 => 0.01,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_to_enu_yaw() {
        assert!((enu_yaw_from_heading_rad(0.0) - PI / 2.0).abs() < 1e-12); // north
        assert!(enu_yaw_from_heading_rad(PI / 2.0).abs() < 1e-12); // east
        assert!((enu_yaw_from_heading_rad(PI) + PI / 2.0).abs() < 1e-12); // south
        assert!((enu_yaw_from_heading_rad(1.5 * PI) - PI).abs() < 1e-12); // west, +π not -π
        assert_eq!(Heading(28_800).radians(), None);
        assert!((Heading(7_200).radians().unwrap() - PI / 2.0).abs() < 1e-12);
    }

    #[test]
    fn unavailable_values() {
        assert_eq!(Latitude(900_000_001).degrees(), None);
        assert_eq!(Longitude(1_800_000_001).degrees(), None);
        assert_eq!(Elevation(-4096).metres(), None);
        assert_eq!(Speed(8191).metres_per_second(), None);
        assert_eq!(DSecond(65_535).milliseconds(), None);
        assert_eq!(SemiMajorAxisAccuracy(255).metres(), None);
        assert!((Latitude(405_659_938).degrees().unwrap() - 40.565_993_8).abs() < 1e-12);
    }
}
