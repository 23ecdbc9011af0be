//! GNSS/INS input and ego pose: the NMEA parser against pynmea2, the sources (file, UDP
//! loopback, a FIFO standing in for a serial device) with a ManualClock, and the ego estimator
//! against hand computations (site ENU of a fix, lever arm, interpolation, CTRV dead reckoning).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::f64::consts::{FRAC_PI_2, PI};
use std::io::Write;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitsense_runtime::gnss::{
    EgoEstimator, EgoEstimatorConfig, GgaQuality, GnssError, GnssSource, HeadingSource, MountPose, NmeaError,
    NmeaErrorKind, Sentence, StampedSentence, format_sentence, parse_sentence,
};
use pitsense_types::{Clock, ManualClock, VehicleSignals};
use pitsense_v2x::geodesy::{Geodetic, WGS84_A_M, WGS84_E2};
use serde_json::{Value, json};

const MS: u64 = 1_000_000;

/// Sentences as receivers send them. The first five are verbatim published examples with their
/// own checksums (the gpsd / NMEA reference GGA and RMC, a u-blox-style GGA/RMC pair, an HDT);
/// the rest are formatted with [`format_sentence`].
fn reference_sentences() -> Vec<String> {
    let mut lines: Vec<String> = [
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
        "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
        "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76",
        "$GPRMC,092750.000,A,5321.6802,N,00630.3372,W,0.02,31.66,280511,,,A*43",
        "$GPHDT,123.456,T*32",
    ]
    .map(str::to_owned)
    .to_vec();
    for body in [
        // RTK receiver on a truck at a Chilean pit (south, west), multi-constellation.
        "GNGGA,141530.20,2416.2000123,S,06904.2000456,W,4,24,0.6,2960.512,M,40.123,M,1.4,0120",
        "GNRMC,141530.20,A,2416.2000123,S,06904.2000456,W,12.345,271.25,031226,1.2,E,R,V",
        "GNTHS,271.37,A",
        "INHDT,359.99,T",
        "HEHDT,0.00,T",
        "GLGGA,141530.40,2416.2001000,S,06904.2010000,W,5,11,1.1,2960.6,M,40.1,M,,",
        "GPGGA,,,,,,0,00,99.99,,,,,,",
        "GPRMC,,V,,,,,,,,,,N",
        "GNTHS,,V",
        "GNGGA,000000.00,0000.0000000,N,00000.0000000,E,6,04,9.9,-12.5,M,-30.0,M,,",
        "GPRMC,235959.999,A,8959.9999999,N,17959.9999999,E,0.0,,291268,,,D",
        "GNTHS,12.5,E",
    ] {
        lines.push(format_sentence(body).trim_end().to_owned());
    }
    // Rejected: a wrong checksum, a truncated line, a type that is not read.
    lines.push("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48".to_owned());
    lines.push("$GPRMC,123519,A,4807.038,N,01131.0".to_owned());
    lines.push("$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74".to_owned());
    lines
}

/// Our reading of one line in the reference script's JSON schema.
fn our_reading(line: &str) -> Value {
    let sentence = match parse_sentence(line) {
        Ok(sentence) => sentence,
        Err(error) => {
            return json!({ "error": match error.kind() {
                NmeaErrorKind::BadChecksum => "checksum",
                NmeaErrorKind::Unsupported => "type",
                NmeaErrorKind::Malformed => "parse",
            }});
        }
    };
    let mut out = json!({ "talker": sentence.talker().as_str(), "type": sentence.formatter() });
    let fields = match &sentence {
        Sentence::Gga(gga) => json!({
            "utc_time_of_day_s": gga.utc_time_of_day_s,
            "lat_deg": gga.lat_deg,
            "lon_deg": gga.lon_deg,
            "quality": gga.quality.map(GgaQuality::digit),
            "satellites_in_use": gga.satellites_in_use,
            "hdop": gga.hdop,
            "altitude_msl_m": gga.altitude_msl_m,
            "geoid_separation_m": gga.geoid_separation_m,
            "dgps_age_s": gga.dgps_age_s,
            "dgps_station_id": gga.dgps_station_id,
        }),
        Sentence::Rmc(rmc) => json!({
            "utc_time_of_day_s": rmc.utc_time_of_day_s,
            "status": rmc.status.map(|s| if s == pitsense_runtime::gnss::RmcStatus::Valid { "A" } else { "V" }),
            "lat_deg": rmc.lat_deg,
            "lon_deg": rmc.lon_deg,
            "speed_mps": rmc.speed_mps,
            "course_over_ground_deg": rmc.course_over_ground_deg,
            "date": rmc.date.map(|d| [u32::from(d.year), u32::from(d.month), u32::from(d.day)]),
            "magnetic_variation_deg": rmc.magnetic_variation_deg,
            "mode": rmc.mode.map(|m| m.letter().to_string()),
        }),
        Sentence::Hdt(hdt) => json!({ "true_heading_deg": hdt.true_heading_deg }),
        Sentence::Ths(ths) => {
            json!({ "true_heading_deg": ths.true_heading_deg, "mode": ths.mode.map(|m| m.letter().to_string()) })
        }
    };
    if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), fields) {
        out.extend(fields);
    }
    out
}

fn assert_same(line: &str, ours: &Value, theirs: &Value) {
    let (Some(ours), Some(theirs)) = (ours.as_object(), theirs.as_object()) else {
        panic!("{line}: not objects: {ours} / {theirs}");
    };
    let mut keys: Vec<&String> = ours.keys().chain(theirs.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (a, b) = (&ours.get(key).unwrap_or(&Value::Null), &theirs.get(key).unwrap_or(&Value::Null));
        let same = match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * (1.0 + y.abs()),
            _ => a == b,
        };
        assert!(same, "{line}: field `{key}`: ours {a}, pynmea2 {b}");
    }
}

#[test]
fn parser_agrees_with_pynmea2_on_every_field() {
    let Ok(python) = std::env::var("PITSENSE_PYTHON") else {
        eprintln!("skipping: PITSENSE_PYTHON is not set (the venv with pynmea2==1.19.0, see ./x setup)");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gnss_pynmea2.py");
    let lines = reference_sentences();
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the reference script");
    let input = lines.join("\r\n") + "\r\n";
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write sentences");
    let output = child.wait_with_output().expect("reference script");
    assert!(output.status.success(), "reference script failed: {}", output.status);
    let readings: Vec<Value> = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(readings.len(), lines.len());
    let mut compared_fields = 0;
    for (line, theirs) in lines.iter().zip(&readings) {
        let ours = our_reading(line);
        // pynmea2 reads many more types (GSV...): those must be "unsupported" for us.
        if theirs
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| !["GGA", "RMC", "HDT", "THS"].contains(&t))
        {
            assert_eq!(ours, json!({ "error": "type" }), "{line}");
            continue;
        }
        assert_same(line, &ours, theirs);
        compared_fields += theirs.as_object().map_or(0, |o| o.len());
    }
    assert!(compared_fields > 100, "{compared_fields}");
    // The pynmea2 reading of a known published sentence, spelled out: 4807.038 N = 48.1173°.
    assert!((readings[0]["lat_deg"].as_f64().expect("lat") - 48.1173).abs() < 1e-12);
    assert_eq!(readings[readings.len() - 3]["error"], "checksum");
    assert_eq!(readings[readings.len() - 2]["error"], "checksum", "a truncated line has no checksum");
    assert_eq!(readings[readings.len() - 1]["type"], "GSV");
}

#[test]
fn file_source_counts_and_names_rejected_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("drive.nmea");
    let long_line = format!("$GPGGA,{}*00", "9".repeat(400));
    let text = reference_sentences().join("\r\n")
        + "\r\n\r\ngarbage that is not nmea\r\n"
        + &long_line
        + "\n$GPHDT,1.0,T*0";
    std::fs::write(&path, text).expect("write");
    let clock = ManualClock::new(42 * MS);
    let mut source =
        GnssSource::open(&format!("file:{}", path.display()), Arc::new(clock.clone())).expect("open");
    let mut parsed = Vec::new();
    loop {
        clock.advance_ns(MS);
        match source.recv(Duration::from_millis(10)) {
            Ok(Some(stamped)) => parsed.push(stamped),
            Ok(None) => panic!("a file never times out"),
            Err(GnssError::EndOfInput { uri }) => {
                assert!(uri.starts_with("file:"));
                break;
            }
            Err(error) => panic!("{error}"),
        }
    }
    let counters = source.counters();
    assert_eq!(counters.parsed, 17);
    assert_eq!(parsed.len(), 17);
    // Wrong checksum, truncated reference line, `*0` at the end of the file.
    assert_eq!(counters.bad_checksum, 3);
    assert_eq!(counters.unsupported, 1);
    // "garbage that is not nmea" and the 400-digit line.
    assert_eq!(counters.malformed, 2);
    let last = source.last_rejection().expect("a rejection");
    assert!(
        matches!(&last.error, NmeaError::BadChecksumField { sentence, .. } if sentence == "GPHDT"),
        "{:?}",
        last.error
    );
    assert!(last.error.to_string().contains("GPHDT"), "{}", last.error);
    // Stamps are the clock's at reception, strictly increasing here.
    assert!(parsed.windows(2).all(|w| w[0].stamp_ns < w[1].stamp_ns));
    assert!(matches!(source.recv(Duration::ZERO), Err(GnssError::EndOfInput { .. })));
}

#[test]
fn bad_uris_are_named() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
    for uri in ["udp:localhost", "tcp:1.2.3.4:5", "nothing", "file:", "serial:"] {
        let error = GnssSource::open(uri, Arc::clone(&clock)).expect_err(uri);
        assert!(matches!(error, GnssError::BadUri { .. }), "{uri}: {error}");
        assert!(error.to_string().contains(uri), "{error}");
    }
    let error = GnssSource::open("file:/nonexistent/drive.nmea", clock).expect_err("missing file");
    assert!(matches!(error, GnssError::Open { .. }), "{error}");
}

#[test]
fn udp_loopback_stamps_each_datagram_with_the_clock() {
    let clock = ManualClock::new(5_000 * MS);
    let mut source = GnssSource::open("udp:127.0.0.1:0", Arc::new(clock.clone())).expect("bind");
    let target = source.local_addr().expect("local address");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("sender");
    let datagram = [
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*11",
        "$GPHDT,123.456,T*32",
        "$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74",
    ]
    .join("\r\n");
    sender.send_to(datagram.as_bytes(), target).expect("send");
    let first = source.recv(Duration::from_secs(2)).expect("recv").expect("GGA");
    // The clock moves after reception: the rest of the datagram keeps the reception stamp.
    clock.advance_ns(7 * MS);
    let second = source.recv(Duration::from_secs(2)).expect("recv").expect("HDT");
    assert_eq!(first.stamp_ns, 5_000 * MS);
    assert_eq!(second.stamp_ns, 5_000 * MS);
    assert!(matches!(first.sentence, Sentence::Gga(_)));
    assert!(matches!(second.sentence, Sentence::Hdt(ref hdt) if hdt.true_heading_deg == Some(123.456)));
    let started = Instant::now();
    assert!(source.recv(Duration::from_millis(100)).expect("recv").is_none());
    assert!(started.elapsed() >= Duration::from_millis(90));
    let counters = source.counters();
    assert_eq!(
        (counters.parsed, counters.bad_checksum, counters.unsupported, counters.datagrams),
        (2, 1, 1, 1)
    );

    clock.set_ns(6_000 * MS);
    sender.send_to(b"$GPHDT,123.456,T*32\r\n", target).expect("send");
    let third = source.recv(Duration::from_secs(2)).expect("recv").expect("HDT");
    assert_eq!(third.stamp_ns, 6_000 * MS);
}

#[test]
fn fifo_as_serial_device_reads_lines_and_ends_on_hang_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ttyGNSS");
    match Command::new("mkfifo").arg(&path).status() {
        Ok(status) if status.success() => {}
        _ => {
            eprintln!("skipping: mkfifo is not available to stand in for a serial device");
            return;
        }
    }
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut fifo = std::fs::OpenOptions::new().write(true).open(writer_path).expect("open fifo");
        fifo.write_all(b"$GPHDT,123.456,T*32\r\n").expect("write");
        fifo.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(400));
        fifo.write_all(
            b"$GPHDT,123.456,T*33\r\n$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n",
        )
        .expect("write");
    });
    let clock = ManualClock::new(MS);
    let mut source =
        GnssSource::open(&format!("serial:{}", path.display()), Arc::new(clock.clone())).expect("open");
    let first = source.recv(Duration::from_secs(5)).expect("recv").expect("HDT");
    assert!(matches!(first.sentence, Sentence::Hdt(_)));
    assert!(source.recv(Duration::from_millis(50)).expect("recv").is_none(), "the writer is still sleeping");
    let second = source.recv(Duration::from_secs(5)).expect("recv").expect("GGA");
    assert!(matches!(second.sentence, Sentence::Gga(_)));
    writer.join().expect("writer");
    assert!(matches!(source.recv(Duration::from_secs(5)), Err(GnssError::EndOfInput { .. })));
    assert_eq!(source.counters().bad_checksum, 1);
}

// ---------------------------------------------------------------------------------------------
// Ego estimator.

/// Escondida-like site origin, 3000 m above the ellipsoid.
const ORIGIN_LAT_DEG: f64 = -24.27;
const ORIGIN_LON_DEG: f64 = -69.07;
const ORIGIN_HEIGHT_M: f64 = 3000.0;

fn estimator(mount: MountPose, configure: impl FnOnce(&mut EgoEstimatorConfig)) -> EgoEstimator {
    let mut config =
        EgoEstimatorConfig::new(Geodetic::new(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M), mount);
    configure(&mut config);
    EgoEstimator::new(config).expect("valid config")
}

/// `ddmm.mmmmmmm` or `dddmm.mmmmmmm` and the hemisphere letter.
fn nmea_angle(value_deg: f64, degree_digits: usize, hemispheres: [char; 2]) -> (String, char) {
    let magnitude = value_deg.abs();
    let degrees = magnitude.floor();
    let minutes = (magnitude - degrees) * 60.0;
    let text = format!("{:0width$}{:010.7}", degrees as u32, minutes, width = degree_digits);
    (text, if value_deg < 0.0 { hemispheres[1] } else { hemispheres[0] })
}

/// A GGA (RTK fixed) of an ellipsoidal height split into 2960 m + the rest as geoid separation.
fn gga(lat_deg: f64, lon_deg: f64, height_m: f64, utc_s: f64) -> Sentence {
    let (lat, ns) = nmea_angle(lat_deg, 2, ['N', 'S']);
    let (lon, ew) = nmea_angle(lon_deg, 3, ['E', 'W']);
    let hh = (utc_s / 3600.0).floor();
    let mm = ((utc_s - hh * 3600.0) / 60.0).floor();
    let ss = utc_s - hh * 3600.0 - mm * 60.0;
    let body = format!(
        "GNGGA,{:02}{:02}{:05.2},{lat},{ns},{lon},{ew},4,20,0.6,2960.000,M,{:.3},M,1.0,0001",
        hh as u32,
        mm as u32,
        ss,
        height_m - 2960.0
    );
    parse_sentence(&format_sentence(&body)).expect("our own GGA parses")
}

fn hdt(heading_deg: f64) -> Sentence {
    parse_sentence(&format_sentence(&format!("GNHDT,{heading_deg:.3},T"))).expect("HDT")
}

fn stamped(stamp_ns: u64, sentence: Sentence) -> StampedSentence {
    StampedSentence { stamp_ns, sentence }
}

/// The meridian radius of curvature M = a(1 − e²)/(1 − e² sin²φ)^{3/2} and the prime vertical
/// radius N = a/√(1 − e² sin²φ) at the origin. At the origin's ellipsoidal height h the arcs
/// grow with it: 100 m north is Δφ = 100/(M + h) rad, 100 m east is Δλ = 100/((N + h) cos φ) rad
/// (to well under a millimetre over 100 m; at h = 3000 m leaving h out costs 47 mm).
fn radii_m() -> (f64, f64) {
    let sin_lat = ORIGIN_LAT_DEG.to_radians().sin();
    let w = 1.0 - WGS84_E2 * sin_lat * sin_lat;
    (WGS84_A_M * (1.0 - WGS84_E2) / w.powf(1.5), WGS84_A_M / w.sqrt())
}

fn north_of_origin_deg(north_m: f64) -> f64 {
    ORIGIN_LAT_DEG + (north_m / (radii_m().0 + ORIGIN_HEIGHT_M)).to_degrees()
}

fn east_of_origin_deg(east_m: f64) -> f64 {
    ORIGIN_LON_DEG
        + (east_m / ((radii_m().1 + ORIGIN_HEIGHT_M) * ORIGIN_LAT_DEG.to_radians().cos())).to_degrees()
}

fn xyz_yaw(ego: &pitsense_types::EgoState) -> (f64, f64, f64, f64) {
    let t = ego.site_from_truck.translation.vector;
    (t.x, t.y, t.z, ego.site_from_truck.rotation.euler_angles().2)
}

#[test]
fn fix_100_m_north_and_east_lands_on_the_enu_axes() {
    let mut ego = estimator(MountPose::default(), |_| {});
    ego.push_fix(&stamped(0, hdt(90.0)));
    ego.push_fix(&stamped(0, gga(north_of_origin_deg(100.0), ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 1.0)));
    let (x, y, z, yaw) = xyz_yaw(&ego.ego_at(0).expect("pose at the fix"));
    // 7 decimals of minutes resolve 0.19 mm; the ENU up of a point 100 m away on the same
    // ellipsoidal height is −d²/(2R) = −0.8 mm.
    assert!(x.abs() < 2e-3 && (y - 100.0).abs() < 2e-3 && (z + 0.0008).abs() < 1e-3, "{x} {y} {z}");
    assert!(yaw.abs() < 1e-9, "heading east is yaw 0, got {yaw}");

    let mut ego = estimator(MountPose::default(), |_| {});
    ego.push_fix(&stamped(0, hdt(0.0)));
    ego.push_fix(&stamped(0, gga(ORIGIN_LAT_DEG, east_of_origin_deg(100.0), ORIGIN_HEIGHT_M + 10.0, 1.0)));
    let (x, y, z, yaw) = xyz_yaw(&ego.ego_at(0).expect("pose at the fix"));
    assert!((x - 100.0).abs() < 2e-3 && y.abs() < 2e-3 && (z - 10.0 + 0.0008).abs() < 1e-3, "{x} {y} {z}");
    assert!((yaw - FRAC_PI_2).abs() < 1e-9, "heading north is yaw π/2, got {yaw}");
}

#[test]
fn lever_arm_moves_the_truck_origin_behind_the_antenna() {
    // Antenna 2 m ahead, 1 m left and 4 m above the rear axle origin.
    let mount = MountPose { x_m: 2.0, y_m: 1.0, z_m: 4.0, yaw_rad: 0.0 };
    for (heading_deg, expected) in [(90.0, (-2.0, 99.0)), (0.0, (1.0, 98.0))] {
        let mut ego = estimator(mount, |_| {});
        ego.push_fix(&stamped(10 * MS, hdt(heading_deg)));
        ego.push_fix(&stamped(
            10 * MS,
            gga(north_of_origin_deg(100.0), ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 1.0),
        ));
        // Facing east (yaw 0): origin = antenna − (2, 1). Facing north (yaw π/2): the lever arm
        // turns to (−1, 2), so origin = antenna − (−1, 2).
        let (x, y, z, _) = xyz_yaw(&ego.ego_at(10 * MS).expect("pose"));
        assert!((x - expected.0).abs() < 2e-3 && (y - expected.1).abs() < 2e-3, "{heading_deg}°: {x} {y}");
        assert!((z + 4.0).abs() < 2e-3, "{z}");
    }
}

#[test]
fn interpolates_position_linearly_and_yaw_along_the_short_arc() {
    let mut ego = estimator(MountPose::default(), |_| {});
    ego.push_fix(&stamped(1_000 * MS, hdt(0.0)));
    ego.push_fix(&stamped(1_000 * MS, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 10.0)));
    ego.push_fix(&stamped(1_100 * MS, hdt(0.0)));
    ego.push_fix(&stamped(1_100 * MS, gga(north_of_origin_deg(1.0), ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 10.1)));
    let state = ego.ego_at(1_025 * MS).expect("between fixes");
    let (x, y, _, yaw) = xyz_yaw(&state);
    assert!(x.abs() < 1e-3 && (y - 0.25).abs() < 1e-3, "{x} {y}");
    assert!((yaw - FRAC_PI_2).abs() < 1e-9);
    // No CAN: the speed is the displacement over the fix interval, 1 m / 0.1 s.
    assert!((state.speed_mps - 10.0).abs() < 0.02, "{}", state.speed_mps);
    assert_eq!(state.header.stamp_ns, 1_025 * MS);

    // Headings 269° and 271° are yaws −179° and +179°: halfway is ±180°, not 0°.
    let mut ego = estimator(MountPose::default(), |_| {});
    ego.push_fix(&stamped(0, hdt(269.0)));
    ego.push_fix(&stamped(0, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 10.0)));
    ego.push_fix(&stamped(200 * MS, hdt(271.0)));
    ego.push_fix(&stamped(200 * MS, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 10.2)));
    let (_, _, _, yaw) = xyz_yaw(&ego.ego_at(100 * MS).expect("between fixes"));
    assert!((yaw.abs() - PI).abs() < 1e-9, "{yaw}");
    let state = ego.ego_at(150 * MS).expect("three quarters");
    let (_, _, _, yaw) = xyz_yaw(&state);
    assert!((yaw - 179.5f64.to_radians()).abs() < 1e-9, "{}", yaw.to_degrees());
    // Turning clockwise 2° in 0.2 s: −10°/s.
    assert!((state.yaw_rate_radps + 10f64.to_radians()).abs() < 1e-9, "{}", state.yaw_rate_radps);
}

fn can(stamp_ns: u64, speed_mps: f64, yaw_rate_radps: f64) -> VehicleSignals {
    VehicleSignals {
        stamp_ns,
        speed_mps: Some(speed_mps),
        yaw_rate_radps: Some(yaw_rate_radps),
        gear: None,
        brake_ratio: None,
    }
}

#[test]
fn dead_reckons_10_mps_straight_for_half_a_second() {
    let mut ego = estimator(MountPose::default(), |_| {});
    let t0 = 2_000 * MS;
    ego.push_fix(&stamped(t0, hdt(0.0)));
    ego.push_fix(&stamped(t0, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 20.0)));
    for k in 0..=50 {
        assert!(ego.push_vehicle(&can(t0 - 5 * MS + k * 10 * MS, 10.0, 0.0)));
    }
    // 10 m/s × 0.5 s = 5 m north.
    let state = ego.ego_at(t0 + 500 * MS).expect("within 500 ms");
    let (x, y, _, yaw) = xyz_yaw(&state);
    assert!(x.abs() < 1e-6 && (y - 5.0).abs() < 1e-6, "{x} {y}");
    assert!((yaw - FRAC_PI_2).abs() < 1e-9);
    assert_eq!((state.speed_mps, state.yaw_rate_radps, state.accel_mps2), (10.0, 0.0, 0.0));
    // One nanosecond past the default 500 ms limit: the pose is lost.
    assert!(ego.ego_at(t0 + 500 * MS + 1).is_none());
    let status = ego.status();
    assert_eq!(status.newest_fix_stamp_ns, Some(t0));
    assert_eq!(status.newest_fix_quality, Some(GgaQuality::RtkFixed));
    assert_eq!(ego.fix_age_ns(t0 + 700 * MS), Some(700 * MS));
}

#[test]
fn dead_reckons_a_constant_yaw_rate_arc() {
    let mut ego = estimator(MountPose::default(), |config| config.max_dead_reckoning_ms = 2000);
    let t0 = 3_000 * MS;
    ego.push_fix(&stamped(t0, hdt(0.0)));
    ego.push_fix(&stamped(t0, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 30.0)));
    let (speed_mps, yaw_rate_radps) = (10.0, 0.2);
    // CAN at 100 Hz.
    for k in 0..=100u64 {
        ego.push_vehicle(&can(t0 + k * 10 * MS, speed_mps, yaw_rate_radps));
    }
    // On a circle of radius R = v/ω = 50 m, after T = 1 s the chord is 2R sin(ωT/2) along the
    // mean heading θ0 + ωT/2, with θ0 = π/2 (north):
    //   x = −2R sin²(ωT/2) = −100 sin²(0.1) = −0.996671, y = R sin(ωT) = 50 sin(0.2) = 9.933467.
    let radius_m = speed_mps / yaw_rate_radps;
    let half_turn_rad: f64 = 0.1;
    let expected_x = -2.0 * radius_m * half_turn_rad.sin() * half_turn_rad.sin();
    let expected_y = radius_m * (2.0 * half_turn_rad).sin();
    assert!((expected_x + 0.996_671).abs() < 1e-6 && (expected_y - 9.933_467).abs() < 1e-6);
    let state = ego.ego_at(t0 + 1_000 * MS).expect("within 2 s");
    let (x, y, _, yaw) = xyz_yaw(&state);
    assert!((x - expected_x).abs() < 1e-6 && (y - expected_y).abs() < 1e-6, "{x} {y}");
    assert!((yaw - (FRAC_PI_2 + 0.2)).abs() < 1e-9, "{yaw}");
    assert!((state.yaw_rate_radps - 0.2).abs() < 1e-12);
}

#[test]
fn can_speed_steps_are_integrated_per_sample_and_give_the_acceleration() {
    let mut ego = estimator(MountPose::default(), |_| {});
    let t0 = 0;
    ego.push_fix(&stamped(t0, hdt(90.0)));
    ego.push_fix(&stamped(t0, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 40.0)));
    // 4 m/s until 100 ms, then 6 m/s: 0.1 × 4 + 0.2 × 6 = 1.6 m east at 300 ms.
    ego.push_vehicle(&can(t0, 4.0, 0.0));
    ego.push_vehicle(&can(t0 + 100 * MS, 6.0, 0.0));
    let state = ego.ego_at(t0 + 300 * MS).expect("pose");
    let (x, y, _, _) = xyz_yaw(&state);
    assert!((x - 1.6).abs() < 1e-6 && y.abs() < 1e-6, "{x} {y}");
    // (6 − 4) m/s over 0.1 s.
    assert!((state.accel_mps2 - 20.0).abs() < 1e-9, "{}", state.accel_mps2);
}

#[test]
fn without_can_the_fixes_give_the_motion() {
    let mut ego = estimator(MountPose::default(), |_| {});
    ego.push_fix(&stamped(0, hdt(0.0)));
    ego.push_fix(&stamped(0, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 50.0)));
    ego.push_fix(&stamped(100 * MS, hdt(0.0)));
    ego.push_fix(&stamped(100 * MS, gga(north_of_origin_deg(1.0), ORIGIN_LON_DEG, ORIGIN_HEIGHT_M, 50.1)));
    // 10 m/s north from the two fixes: 50 ms later the truck is 0.5 m further.
    let (x, y, _, _) = xyz_yaw(&ego.ego_at(150 * MS).expect("pose"));
    assert!(x.abs() < 2e-3 && (y - 1.5).abs() < 2e-3, "{x} {y}");
}

#[test]
fn course_over_ground_stands_in_for_a_missing_true_heading() {
    let rmc = |course_deg: f64, knots: f64| {
        let (lat, ns) = nmea_angle(ORIGIN_LAT_DEG, 2, ['N', 'S']);
        let (lon, ew) = nmea_angle(ORIGIN_LON_DEG, 3, ['E', 'W']);
        let body = format!("GNRMC,000100.00,A,{lat},{ns},{lon},{ew},{knots:.3},{course_deg:.2},031226,,,R");
        parse_sentence(&format_sentence(&body)).expect("RMC")
    };
    // Course 45° at 5 kn (2.57 m/s, above the 1 m/s default): yaw 45°.
    let mut ego = estimator(MountPose::default(), |_| {});
    let used = ego.push_fix(&stamped(0, rmc(45.0, 5.0)));
    assert!(used.position && used.heading);
    let (_, _, z, yaw) = xyz_yaw(&ego.ego_at(0).expect("pose from RMC alone"));
    assert!((yaw - 45f64.to_radians()).abs() < 1e-9, "{yaw}");
    // RMC has no height: the origin's is used.
    assert!(z.abs() < 1e-3, "{z}");
    // Only true heading wanted: no pose.
    let mut ego = estimator(MountPose::default(), |c| c.heading_source = HeadingSource::TrueHeadingOnly);
    ego.push_fix(&stamped(0, rmc(45.0, 5.0)));
    assert!(ego.ego_at(0).is_none());
    // Too slow for the course to mean anything.
    let mut ego = estimator(MountPose::default(), |_| {});
    assert!(!ego.push_fix(&stamped(0, rmc(45.0, 1.0))).heading);
    assert!(ego.ego_at(0).is_none());
}

#[test]
fn no_fix_sentences_are_ignored_and_gga_rmc_of_one_epoch_make_one_fix() {
    let mut ego = estimator(MountPose::default(), |_| {});
    let no_fix = parse_sentence(&format_sentence("GPGGA,,,,,,0,00,99.99,,,,,,")).expect("GGA");
    assert_eq!(ego.push_fix(&stamped(0, no_fix)), Default::default());
    assert!(ego.ego_at(0).is_none());
    let (lat, ns) = nmea_angle(ORIGIN_LAT_DEG, 2, ['N', 'S']);
    let (lon, ew) = nmea_angle(ORIGIN_LON_DEG, 3, ['E', 'W']);
    let rmc =
        parse_sentence(&format_sentence(&format!("GNRMC,000010.00,A,{lat},{ns},{lon},{ew},0.0,,031226,,,R")))
            .expect("RMC");
    ego.push_fix(&stamped(5 * MS, rmc));
    ego.push_fix(&stamped(8 * MS, gga(ORIGIN_LAT_DEG, ORIGIN_LON_DEG, ORIGIN_HEIGHT_M + 7.0, 10.0)));
    let status = ego.status();
    assert_eq!(status.fixes_used, 1);
    assert_eq!(status.sentences_ignored, 1);
    // Stamped by the first sentence of the epoch, with GGA's height.
    assert_eq!(status.newest_fix_stamp_ns, Some(5 * MS));
    ego.push_fix(&stamped(9 * MS, hdt(0.0)));
    let (_, _, z, _) = xyz_yaw(&ego.ego_at(5 * MS).expect("pose"));
    assert!((z - 7.0).abs() < 2e-3, "{z}");
}

#[test]
fn example_config_parses_and_validates() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/gnss.example.toml"))
        .expect("example config");
    let config: EgoEstimatorConfig = toml::from_str(&text).expect("parses");
    config.validate().expect("valid");
    // The example lists every default.
    assert_eq!(config, EgoEstimatorConfig::new(config.site_origin, config.truck_from_gnss));
    let error =
        toml::from_str::<EgoEstimatorConfig>(&format!("{text}\nbogus_key = 1\n")).expect_err("unknown key");
    assert!(error.to_string().contains("bogus_key"), "{error}");
}
