//! Malformed lines are skipped and reported with file and line, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::PathBuf;

use pitsense_sim::kitti_tracking::{
    FormatError, LineProblem, read_pointrcnn_detections, read_seqmap, read_tracking_file,
};

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("pitsense-sim-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_tracking_lines_are_skipped_and_reported() {
    let text = "\
0 1 Car 0 0 -1.5 10 20 110 80 1.5 1.6 3.9 -4.5 1.8 13.4 -2.1 0.9
0 2 Car 0 0 -1.5 10 20 110 80 1.5 1.6 3.9 -4.5 1.8 13.4 -2.1
0 3 Car 0 0 -1.5 10 20 110 80 NaN 1.6 3.9 -4.5 1.8 13.4 -2.1

1 4 Car 0 0 -1.5 10 20 110 80 1.5 -1.6 3.9 -4.5 1.8 13.4 -2.1
1 -1 DontCare -1 -1 -10 10 20 110 80 -1000 -1000 -1000 -10 -1 -1 -1
1 5 Car 0 0 -1.5 10 20 110 80 1.5 1.6 3.9 -4.5 1.8 13.4 -2.1 high
x 6 Car 0 0 -1.5 10 20 110 80 1.5 1.6 3.9 -4.5 1.8 13.4 -2.1
1 7 Car 0 0 -1.5 10 20 110 80 1.5 1.6 3.9 -4.5 1.8 13.4 inf
1 8 Car 0 0 -1.5 10 20 110 80 1.5 1.6 3.9 -4.5 1.8 13.4 -2.1 0.5 extra
";
    let path = temp_file("results.txt", text);
    let parsed = read_tracking_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    // Kept: line 1 (18 columns), line 2 (17 columns), line 6 (DontCare with −1000 sizes).
    let kept: Vec<i64> = parsed.data.objects().map(|o| o.track_id).collect();
    assert_eq!(kept, [1, 2, -1]);
    let lines: Vec<usize> = parsed.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [3, 5, 7, 8, 9, 10]);
    assert!(parsed.warnings.iter().all(|w| w.path == path));
    assert!(matches!(parsed.warnings[0].problem, LineProblem::NotFinite { column: "h", .. }));
    assert!(
        matches!(parsed.warnings[1].problem, LineProblem::NegativeSize { column: "w", value } if value == -1.6)
    );
    assert!(matches!(parsed.warnings[2].problem, LineProblem::NotANumber { column: "score", .. }));
    assert!(matches!(parsed.warnings[3].problem, LineProblem::NotANumber { column: "frame", .. }));
    assert!(matches!(parsed.warnings[4].problem, LineProblem::NotFinite { column: "rot_y", .. }));
    assert_eq!(parsed.warnings[5].problem, LineProblem::ColumnCount { expected: "17 or 18", found: 19 });
    // Displayed as file:line: problem.
    assert_eq!(
        parsed.warnings[1].to_string(),
        format!("{}:5: column `w` is a negative size: -1.6", path.display())
    );
}

#[test]
fn bad_detection_and_seqmap_lines_are_skipped_and_reported() {
    let text = "\
0,2,298.3,165.1,458.2,293.4,8.29,1.96,1.81,4.75,-4.57,1.84,13.53,-2.11,-1.78
0,2,298.3,165.1,458.2,293.4,8.29,1.96,1.81,4.75,-4.57,1.84,13.53,-2.11
0,4,298.3,165.1,458.2,293.4,8.29,1.96,1.81,4.75,-4.57,1.84,13.53,-2.11,-1.78
1,1,298.3,165.1,458.2,293.4,nan,1.96,1.81,4.75,-4.57,1.84,13.53,-2.11,-1.78
1,3,298.3,165.1,458.2,293.4,-0.45,-1.96,1.81,4.75,-4.57,1.84,13.53,-2.11,-1.78
1,3,298.3,165.1,458.2,293.4,-0.45,1.96,1.81,4.75,-4.57,1.84,13.53,-2.11,-1.78
";
    let path = temp_file("detections.txt", text);
    let parsed = read_pointrcnn_detections(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(parsed.data.values().map(Vec::len).sum::<usize>(), 2);
    assert_eq!(parsed.data[&1][0].score, -0.45);
    let lines: Vec<usize> = parsed.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [2, 3, 4, 5]);
    assert_eq!(parsed.warnings[1].problem, LineProblem::UnknownTypeId { type_id: 4 });
    assert!(
        parsed.warnings[1]
            .to_string()
            .ends_with(":3: unknown type id 4 (expected 1 Pedestrian, 2 Car, 3 Cyclist)")
    );

    let path = temp_file("seqmap", "0000 empty 000000 000154\n0001 empty 000000\n0002 empty 0 -5\n");
    let parsed = read_seqmap(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(parsed.data.len(), 1);
    let lines: Vec<usize> = parsed.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [2, 3]);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let path = std::env::temp_dir().join("pitsense-sim-does-not-exist.txt");
    let error = read_tracking_file(&path).unwrap_err();
    assert!(matches!(&error, FormatError::Read { path: p, .. } if *p == path));
    assert!(error.to_string().contains("pitsense-sim-does-not-exist.txt"));
}
