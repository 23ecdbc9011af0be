//! `pitsense lidar inspect` on captures from which nothing decodes (issue 16, R05): it must
//! exit non-zero and name the missing metadata key or port, not print "frames: 0" and succeed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use pitsense_testkit::data_root;
use std::path::Path;
use std::process::{Command, Output};

fn inspect(pcap: &Path, meta: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .args(["lidar", "inspect", "--pcap"])
        .arg(pcap)
        .arg("--meta")
        .arg(meta)
        .args(extra)
        .output()
        .expect("the pitsense binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn inspect_fails_and_names_the_missing_key_or_port() {
    let regressions = data_root().join("regressions/R05");
    let vendor = data_root().join("lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap");
    if !regressions.join("r05_port7510.pcap").is_file() || !vendor.is_file() {
        eprintln!(
            "inspect_fails_and_names_the_missing_key_or_port: skipped, `{}` is missing (set PITSENSE_DATA)",
            regressions.display()
        );
        return;
    }
    // Metadata without `data_format`: every packet rejected as LEGACY-sized.
    let output = inspect(&vendor, &regressions.join("r05_no_data_format.json"), &[]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "exit status {:?}", output.status);
    assert!(stderr.contains("no frame could be decoded") && stderr.contains("no `data_format`"), "{stderr}");
    assert!(stderr.contains("fit the RNG19_RFL8_SIG16_NIR16 profile"), "{stderr}");
    // The report still shows what was found.
    assert!(text(&output.stdout).contains("0 accepted, 0 lost, 0 duplicate, 0 late, 64 malformed"));

    // Lidar packets on port 7510, metadata without ports.
    let capture = regressions.join("r05_port7510.pcap");
    let no_ports = regressions.join("r05_no_ports.json");
    let output = inspect(&capture, &no_ports, &[]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "exit status {:?}", output.status);
    assert!(stderr.contains("lidar port 7502") && stderr.contains("no `udp_port_lidar`"), "{stderr}");
    assert!(stderr.contains("port 7510 carries 24832-byte datagrams"), "{stderr}");

    // Given the port, it decodes and succeeds.
    let output = inspect(&capture, &no_ports, &["--lidar-port", "7510"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("frames: 1 (1 complete)"), "{}", text(&output.stdout));
}
