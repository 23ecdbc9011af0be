//! WGS-84 geodesy: geodetic latitude/longitude/height to Earth-centred Earth-fixed (ECEF), to
//! the site's local east-north-up (ENU) frame ([`pitsense_types::FrameId::Site`]), and to the
//! truck frame through the ego pose (`EgoState::site_from_truck`).
//!
//! Formulas: NIMA TR8350.2 (WGS-84 defining parameters, geodetic to ECEF, §4), the ECEF to
//! local-tangent-plane rotation (e.g. Hofmann-Wellenhof et al., *GNSS*, §10.2.1) and, for ECEF
//! to geodetic, Heikkinen's closed form (1982, as given by Zhu, IEEE TAES 30(3), 1994), exact
//! to well under a millimetre for heights between -1000 km and +10000 km. Heights are
//! ellipsoidal (J2735 `Elevation` is "above the WGS-84 ellipsoid" too).

use nalgebra::{Isometry3, Matrix3, Point3, Vector3};
use pitsense_types::{ConfigError, EgoState};
use serde::{Deserialize, Serialize};

/// WGS-84 semi-major axis, metres.
pub const WGS84_A_M: f64 = 6_378_137.0;
/// WGS-84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// WGS-84 semi-minor axis, metres.
pub const WGS84_B_M: f64 = WGS84_A_M * (1.0 - WGS84_F);
/// WGS-84 first eccentricity squared.
pub const WGS84_E2: f64 = WGS84_F * (2.0 - WGS84_F);

/// A geodetic position on WGS-84.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geodetic {
    /// Latitude, degrees north, in `-90..=90`.
    pub lat_deg: f64,
    /// Longitude, degrees east, in `-180..=180`.
    pub lon_deg: f64,
    /// Height above the WGS-84 ellipsoid, metres.
    pub height_m: f64,
}

impl Geodetic {
    /// A position from degrees and metres.
    pub fn new(lat_deg: f64, lon_deg: f64, height_m: f64) -> Self {
        Self { lat_deg, lon_deg, height_m }
    }

    /// Whether the values are finite and inside the latitude/longitude ranges.
    pub fn is_valid(&self) -> bool {
        self.lat_deg.is_finite()
            && self.lon_deg.is_finite()
            && self.height_m.is_finite()
            && (-90.0..=90.0).contains(&self.lat_deg)
            && (-180.0..=180.0).contains(&self.lon_deg)
    }
}

/// ECEF coordinates (metres) of a geodetic position.
pub fn ecef_from_geodetic(position: &Geodetic) -> Vector3<f64> {
    let (sin_lat, cos_lat) = position.lat_deg.to_radians().sin_cos();
    let (sin_lon, cos_lon) = position.lon_deg.to_radians().sin_cos();
    // Prime vertical radius of curvature.
    let n = WGS84_A_M / (1.0 - WGS84_E2 * sin_lat * sin_lat).sqrt();
    Vector3::new(
        (n + position.height_m) * cos_lat * cos_lon,
        (n + position.height_m) * cos_lat * sin_lon,
        (n * (1.0 - WGS84_E2) + position.height_m) * sin_lat,
    )
}

/// Geodetic position of ECEF coordinates (metres), Heikkinen's closed form.
pub fn geodetic_from_ecef(ecef: &Vector3<f64>) -> Geodetic {
    let (x, y, z) = (ecef.x, ecef.y, ecef.z);
    let a = WGS84_A_M;
    let b = WGS84_B_M;
    let e2 = WGS84_E2;
    let ep2 = (a * a - b * b) / (b * b);
    let p = x.hypot(y);
    if p < 1e-9 {
        // On the polar axis.
        let lat_deg = if z >= 0.0 { 90.0 } else { -90.0 };
        return Geodetic { lat_deg, lon_deg: 0.0, height_m: z.abs() - b };
    }
    let f = 54.0 * b * b * z * z;
    let g = p * p + (1.0 - e2) * z * z - e2 * (a * a - b * b);
    let c = e2 * e2 * f * p * p / (g * g * g);
    let s = (1.0 + c + (c * c + 2.0 * c).sqrt()).cbrt();
    let k = s + 1.0 + 1.0 / s;
    let pp = f / (3.0 * k * k * g * g);
    let q = (1.0 + 2.0 * e2 * e2 * pp).sqrt();
    let r0 = -(pp * e2 * p) / (1.0 + q)
        + (0.5 * a * a * (1.0 + 1.0 / q) - pp * (1.0 - e2) * z * z / (q * (1.0 + q)) - 0.5 * pp * p * p)
            .sqrt();
    let u = ((p - e2 * r0).powi(2) + z * z).sqrt();
    let v = ((p - e2 * r0).powi(2) + (1.0 - e2) * z * z).sqrt();
    let z0 = b * b * z / (a * v);
    Geodetic {
        lat_deg: (z + ep2 * z0).atan2(p).to_degrees(),
        lon_deg: y.atan2(x).to_degrees(),
        height_m: u * (1.0 - b * b / (a * v)),
    }
}

/// Rotation taking ECEF vectors into the ENU axes at a geodetic position (rows: east, north,
/// up unit vectors in ECEF).
pub fn enu_from_ecef_rotation(position: &Geodetic) -> Matrix3<f64> {
    let (sin_lat, cos_lat) = position.lat_deg.to_radians().sin_cos();
    let (sin_lon, cos_lon) = position.lon_deg.to_radians().sin_cos();
    Matrix3::new(
        -sin_lon,
        cos_lon,
        0.0,
        -sin_lat * cos_lon,
        -sin_lat * sin_lon,
        cos_lat,
        cos_lat * cos_lon,
        cos_lat * sin_lon,
        sin_lat,
    )
}

/// The site's local ENU frame: x east, y north, z up, origin at a surveyed geodetic point.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteFrame {
    origin: Geodetic,
    origin_ecef_m: Vector3<f64>,
    site_from_ecef: Matrix3<f64>,
}

impl SiteFrame {
    /// The frame with its origin at `origin`.
    ///
    /// # Errors
    /// [`ConfigError`] for `v2x.site_origin` when a value is not finite or out of range.
    pub fn new(origin: Geodetic) -> Result<Self, ConfigError> {
        if !origin.is_valid() {
            return Err(ConfigError::new(
                "v2x.site_origin",
                format!("{origin:?} is not a finite WGS-84 position (lat -90..=90, lon -180..=180 degrees)"),
            ));
        }
        Ok(Self {
            origin,
            origin_ecef_m: ecef_from_geodetic(&origin),
            site_from_ecef: enu_from_ecef_rotation(&origin),
        })
    }

    /// The origin.
    pub fn origin(&self) -> &Geodetic {
        &self.origin
    }

    /// Site (ENU) coordinates of a geodetic position, metres.
    pub fn site_from_geodetic(&self, position: &Geodetic) -> Point3<f64> {
        Point3::from(self.site_from_ecef * (ecef_from_geodetic(position) - self.origin_ecef_m))
    }

    /// Geodetic position of site (ENU) coordinates.
    pub fn geodetic_from_site(&self, point_in_site: &Point3<f64>) -> Geodetic {
        geodetic_from_ecef(&(self.site_from_ecef.transpose() * point_in_site.coords + self.origin_ecef_m))
    }

    /// Rotation taking vectors in the local ENU axes at `position` (for example an object's
    /// velocity or covariance computed from north/east quantities there) into the site axes.
    /// Differs from identity by the convergence of the verticals: about 0.045° at 5 km.
    pub fn site_from_local_enu(&self, position: &Geodetic) -> Matrix3<f64> {
        self.site_from_ecef * enu_from_ecef_rotation(position).transpose()
    }

    /// Truck-frame coordinates of a geodetic position given the ego pose
    /// (`truck_from_site = ego.site_from_truck⁻¹`).
    pub fn truck_from_geodetic(&self, position: &Geodetic, ego: &EgoState) -> Point3<f64> {
        truck_from_site(ego) * self.site_from_geodetic(position)
    }
}

/// The inverse of the ego pose: maps site points into the truck frame.
pub fn truck_from_site(ego: &EgoState) -> Isometry3<f64> {
    ego.site_from_truck.inverse()
}
