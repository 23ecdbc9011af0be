//! `pitsense lidar inspect` and `pitsense v2x decode` end to end, on the shared Ouster and
//! J2735 data.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use pitsense_testkit::data_root;
use std::path::Path;
use std::process::{Command, Output};

fn pitsense(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pitsense")).args(args).output().expect("the pitsense binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn lidar_inspect_prints_the_ouster_sdk_digests() {
    let ouster = data_root().join("lidar_pcap/ouster_sdk_tests");
    let output = pitsense(&[
        Path::new("lidar"),
        Path::new("inspect"),
        Path::new("--pcap"),
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.pcap"),
        Path::new("--meta"),
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.json"),
        Path::new("--digest"),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let digest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ouster.join("OS-2-128-U1_v2.3.0_1024x10_digest.json")).unwrap(),
    )
    .unwrap();
    assert!(stdout.contains("profile: RNG19_RFL8_SIG16_NIR16"), "{stdout}");
    assert!(stdout.contains("64 accepted, 0 lost"), "{stdout}");
    for field in ["RANGE", "SIGNAL", "REFLECTIVITY", "NEAR_IR"] {
        let expected = digest["scans"][0][field].as_str().unwrap();
        assert!(stdout.contains(&format!("scans[0] {field} {expected}")), "{field}: {stdout}");
    }
}

#[test]
fn v2x_decode_prints_one_json_line_per_message() {
    let j2735 = data_root().join("v2x/j2735/asn1_codec");
    let output =
        pitsense(&[Path::new("v2x"), Path::new("decode"), &j2735.join("j2735.MessageFrame.128.bsms.uper")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> =
        text(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 128);
    // First BSM of the .xer: lat 411642143, long -1048434120 (1e-7 degrees), secMark 59299.
    assert_eq!(lines[0]["message_type"], "BSM");
    assert_eq!(lines[0]["sec_mark_ms"], 59299);
    assert!((lines[0]["lat_deg"].as_f64().unwrap() - 41.1642143).abs() < 1e-9);
    assert!((lines[0]["lon_deg"].as_f64().unwrap() + 104.843412).abs() < 1e-9);
    let garbage = pitsense(&[Path::new("v2x"), Path::new("decode"), Path::new("--hex"), Path::new("zz")]);
    assert!(!garbage.status.success());
    assert!(!text(&garbage.stderr).contains("panicked"), "{}", text(&garbage.stderr));
}

/// Flags with a closed set of values are parsed into their types by clap: an unknown value is
/// refused before anything runs, with the accepted values named; a model's datasheet name is
/// accepted too.
#[test]
fn typed_flags_refuse_unknown_values_by_name() {
    let path = |text: &'static str| Path::new(text);
    for (args, expected) in [
        (
            vec![
                path("lidar"),
                path("inspect"),
                path("--pcap"),
                path("x.pcap"),
                path("--velodyne"),
                path("vlp99"),
            ],
            "unknown Velodyne model `vlp99` (vlp16, vlp32c, hdl32e, hdl64e)",
        ),
        (
            vec![path("v2x"), path("decode"), path("--hex"), path("00"), path("--standard"), path("dsrc")],
            "unknown V2X standard `dsrc` (auto, j2735, csae53, csae157, etsi)",
        ),
        (
            vec![path("v2x"), path("decode"), path("--hex"), path("00"), path("--edition"), path("2021")],
            "unknown CSAE edition `2021` (expected 2019 or 2020)",
        ),
    ] {
        let output = pitsense(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains(expected), "{}", text(&output.stderr));
    }
    // `VLP-16` (the datasheet's name) selects the same decoder as `vlp16`: the capture is not
    // there, so both fail on the file, after parsing.
    for model in ["vlp16", "VLP-16"] {
        let output = pitsense(&[
            path("lidar"),
            path("inspect"),
            path("--pcap"),
            path("/nonexistent.pcap"),
            path("--velodyne"),
            Path::new(model),
        ]);
        assert_eq!(output.status.code(), Some(1), "{model}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains("/nonexistent.pcap"), "{}", text(&output.stderr));
    }
}
