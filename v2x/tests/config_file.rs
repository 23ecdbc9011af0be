//! The documented example configuration parses, equals the defaults, and validates.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use pitsense_v2x::config::V2xConfig;
use pitsense_v2x::decode::DecodeConfig;
use pitsense_v2x::geodesy::Geodetic;
use pitsense_v2x::measurement::MeasurementConfig;
use pitsense_v2x::plausibility::PlausibilityConfig;
use pitsense_v2x::receiver::ReceiverConfig;

#[test]
fn the_example_file_documents_the_defaults() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/v2x.example.toml")).unwrap();
    let config: V2xConfig = toml::from_str(&text).unwrap();
    config.validate().unwrap();
    assert_eq!(config.site_origin, Geodetic::new(-24.27, -69.07, 3100.0));
    assert_eq!(config.decode, DecodeConfig::default());
    assert_eq!(config.measurement, MeasurementConfig::default());
    assert_eq!(config.plausibility, PlausibilityConfig::default());
    assert_eq!(config.receiver, ReceiverConfig::default());
}

#[test]
fn unknown_keys_and_bad_values_are_refused_with_their_key() {
    let unknown =
        "[site_origin]\nlat_deg = 1.0\nlon_deg = 2.0\nheight_m = 3.0\n[measurement]\nspeed_sigma = 1.0\n";
    assert!(toml::from_str::<V2xConfig>(unknown).is_err());
    let bad =
        "[site_origin]\nlat_deg = 1.0\nlon_deg = 2.0\nheight_m = 3.0\n[plausibility]\nmax_age_s = -1.0\n";
    let config: V2xConfig = toml::from_str(bad).unwrap();
    let error = config.validate().unwrap_err();
    assert_eq!(error.key, "v2x.plausibility.max_age_s");
}
