//! GNSS/INS input and the truck's ego pose.
//!
//! - [`nmea`]: NMEA 0183 parser for GGA, RMC, HDT and THS ([`parse_sentence`], never panics).
//! - [`source`]: [`GnssSource`], sentences from `udp:`, `serial:` or `file:` URIs stamped at
//!   reception with the injected clock, with counters of what was rejected and why.
//! - [`ego`]: [`EgoEstimator`], the truck's pose in the site (ENU) frame at any stamp from the
//!   fixes, the true heading and vehicle CAN (interpolation between fixes, CTRV dead reckoning
//!   after the newest one).
//!
//! Wiring (a source's thread feeding the estimator, the health monitor reading
//! [`EgoEstimator::status`]) lives in the runtime's graph.

pub mod ego;
pub mod nmea;
pub mod source;

pub use ego::{
    EgoEstimator, EgoEstimatorConfig, EgoStatus, FixUse, HeadingSource, MountPose,
    enu_yaw_rad_from_true_heading_deg, interpolate_angle_rad, true_heading_deg_from_enu_yaw_rad,
    wrap_angle_rad,
};
pub use nmea::{
    Gga, GgaQuality, Hdt, ModeIndicator, NmeaDate, NmeaError, NmeaErrorKind, Rmc, RmcStatus, Sentence,
    TalkerId, Ths, checksum, format_sentence, parse_sentence,
};
pub use source::{GnssCounters, GnssError, GnssSource, Rejection, StampedSentence};
