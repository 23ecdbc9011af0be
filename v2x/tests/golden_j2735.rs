//! Golden tests: real J2735 captures against the asn1c XER decode of the USDOT ODE
//! (`shared/data/v2x/j2735/`, SOURCES.md §6a), and encode(decode(x)) == x.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use common::*;
use pitsense_v2x::decode::{DecodeConfig, decode_input};
use pitsense_v2x::j2735::map::{NodeListXY, NodeOffsetPointXY};
use pitsense_v2x::j2735::sdsm::SensorDataSharingMessage;
use pitsense_v2x::j2735::{self, J2735Message, bsm::BasicSafetyMessage, psm::PersonalSafetyMessage};
use pitsense_v2x::view;
use roxmltree::Node;

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// Checks the BSM core data and path history against an XER `<BasicSafetyMessage>`; returns
/// the number of path history points compared.
fn check_bsm(bsm: &BasicSafetyMessage, xer: Node, label: &str) -> usize {
    let core = &bsm.core_data;
    let x = path(xer, "coreData").unwrap();
    assert_eq!(i64::from(core.msg_cnt.0), int(x, "msgCnt").unwrap(), "{label} msgCnt");
    assert_eq!(hex_upper(core.id.0.as_ref()), text(x, "id").unwrap(), "{label} id");
    assert_eq!(i64::from(core.sec_mark.0), int(x, "secMark").unwrap(), "{label} secMark");
    assert_eq!(i64::from(core.lat.0), int(x, "lat").unwrap(), "{label} lat");
    assert_eq!(i64::from(core.long.0), int(x, "long").unwrap(), "{label} long");
    assert_eq!(i64::from(core.elev.0), int(x, "elev").unwrap(), "{label} elev");
    assert_eq!(i64::from(core.accuracy.semi_major.0), int(x, "accuracy/semiMajor").unwrap(), "{label}");
    assert_eq!(i64::from(core.accuracy.semi_minor.0), int(x, "accuracy/semiMinor").unwrap(), "{label}");
    assert_eq!(i64::from(core.accuracy.orientation.0), int(x, "accuracy/orientation").unwrap(), "{label}");
    assert_eq!(core.transmission.asn1_name(), enum_name(x, "transmission").unwrap(), "{label} transmission");
    assert_eq!(i64::from(core.speed.0), int(x, "speed").unwrap(), "{label} speed");
    assert_eq!(i64::from(core.heading.0), int(x, "heading").unwrap(), "{label} heading");
    assert_eq!(i64::from(core.angle.0), int(x, "angle").unwrap(), "{label} angle");
    assert_eq!(i64::from(core.accel_set.long.0), int(x, "accelSet/long").unwrap(), "{label} accel long");
    assert_eq!(i64::from(core.accel_set.lat.0), int(x, "accelSet/lat").unwrap(), "{label} accel lat");
    assert_eq!(i64::from(core.accel_set.vert.0), int(x, "accelSet/vert").unwrap(), "{label} accel vert");
    assert_eq!(i64::from(core.accel_set.yaw.0), int(x, "accelSet/yaw").unwrap(), "{label} yaw");
    let wheel_brakes: String =
        core.brakes.wheel_brakes.0.iter().map(|bit| if *bit { '1' } else { '0' }).collect();
    assert_eq!(wheel_brakes, text(x, "brakes/wheelBrakes").unwrap(), "{label} wheelBrakes");
    assert_eq!(core.brakes.traction.asn1_name(), enum_name(x, "brakes/traction").unwrap(), "{label}");
    assert_eq!(core.brakes.abs.asn1_name(), enum_name(x, "brakes/abs").unwrap(), "{label}");
    assert_eq!(core.brakes.scs.asn1_name(), enum_name(x, "brakes/scs").unwrap(), "{label}");
    assert_eq!(core.brakes.brake_boost.asn1_name(), enum_name(x, "brakes/brakeBoost").unwrap(), "{label}");
    assert_eq!(core.brakes.aux_brakes.asn1_name(), enum_name(x, "brakes/auxBrakes").unwrap(), "{label}");
    assert_eq!(i64::from(core.size.width.0), int(x, "size/width").unwrap(), "{label} width");
    assert_eq!(i64::from(core.size.length.0), int(x, "size/length").unwrap(), "{label} length");
    let xer_part_ii: Vec<i64> = path(xer, "partII")
        .map(|part| children(part, "BSMpartIIExtension").map(|ext| int(ext, "partII-Id").unwrap()).collect())
        .unwrap_or_default();
    let part_ii: Vec<i64> = bsm.part_ii.iter().flatten().map(|ext| i64::from(ext.part_ii_id.0)).collect();
    assert_eq!(part_ii, xer_part_ii, "{label} partII ids");
    // VehicleSafetyExtensions: path history breadcrumbs and path prediction.
    let mut points_compared = 0;
    for (extension, xer_extension) in bsm
        .part_ii
        .iter()
        .flatten()
        .zip(path(xer, "partII").into_iter().flat_map(|p| children(p, "BSMpartIIExtension")))
    {
        let Some(decoded) = extension.vehicle_safety_extensions() else { continue };
        let safety = decoded.unwrap_or_else(|e| panic!("{label}: {e}"));
        let xs = path(xer_extension, "partII-Value/VehicleSafetyExtensions").unwrap();
        let history = safety.path_history.as_ref();
        let points: Vec<[i64; 4]> = history
            .map(|h| {
                h.crumb_data
                    .0
                    .iter()
                    .map(|p| {
                        [
                            i64::from(p.lat_offset.0),
                            i64::from(p.lon_offset.0),
                            i64::from(p.elevation_offset.0),
                            i64::from(p.time_offset.0),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        let xer_points: Vec<[i64; 4]> = path(xs, "pathHistory/crumbData")
            .map(|list| {
                children(list, "PathHistoryPoint")
                    .map(|p| {
                        [
                            int(p, "latOffset").unwrap(),
                            int(p, "lonOffset").unwrap(),
                            int(p, "elevationOffset").unwrap(),
                            int(p, "timeOffset").unwrap(),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(points, xer_points, "{label} path history");
        points_compared += points.len();
        let prediction = safety.path_prediction.as_ref();
        assert_eq!(
            prediction.map(|p| i64::from(p.radius_of_curve.0)),
            int(xs, "pathPrediction/radiusOfCurve")
        );
        assert_eq!(prediction.map(|p| i64::from(p.confidence.0)), int(xs, "pathPrediction/confidence"));
        // The open type's octets re-encode exactly.
        assert_eq!(rasn::uper::encode(&safety).unwrap(), extension.part_ii_value.as_bytes(), "{label}");
    }
    points_compared
}

fn check_psm(psm: &PersonalSafetyMessage, x: Node) {
    assert_eq!(psm.basic_type.asn1_name(), enum_name(x, "basicType").unwrap());
    assert_eq!(i64::from(psm.sec_mark.0), int(x, "secMark").unwrap());
    assert_eq!(i64::from(psm.msg_cnt.0), int(x, "msgCnt").unwrap());
    assert_eq!(hex_upper(psm.id.0.as_ref()), text(x, "id").unwrap());
    assert_eq!(i64::from(psm.position.lat.0), int(x, "position/lat").unwrap());
    assert_eq!(i64::from(psm.position.long.0), int(x, "position/long").unwrap());
    assert_eq!(psm.position.elevation.map(|e| i64::from(e.0)), int(x, "position/elevation"));
    assert_eq!(i64::from(psm.accuracy.semi_major.0), int(x, "accuracy/semiMajor").unwrap());
    assert_eq!(i64::from(psm.accuracy.semi_minor.0), int(x, "accuracy/semiMinor").unwrap());
    assert_eq!(i64::from(psm.accuracy.orientation.0), int(x, "accuracy/orientation").unwrap());
    assert_eq!(i64::from(psm.speed.0), int(x, "speed").unwrap());
    assert_eq!(i64::from(psm.heading.0), int(x, "heading").unwrap());
}

fn check_sdsm(sdsm: &SensorDataSharingMessage, x: Node) {
    assert_eq!(i64::from(sdsm.msg_cnt.0), int(x, "msgCnt").unwrap());
    assert_eq!(hex_upper(sdsm.source_id.0.as_ref()), text(x, "sourceID").unwrap());
    assert_eq!(sdsm.equipment_type.asn1_name(), enum_name(x, "equipmentType").unwrap());
    assert_eq!(sdsm.sdsm_time_stamp.year.map(|y| i64::from(y.0)), int(x, "sDSMTimeStamp/year"));
    assert_eq!(sdsm.sdsm_time_stamp.month.map(|v| i64::from(v.0)), int(x, "sDSMTimeStamp/month"));
    assert_eq!(sdsm.sdsm_time_stamp.second.map(|v| i64::from(v.0)), int(x, "sDSMTimeStamp/second"));
    assert_eq!(i64::from(sdsm.ref_pos.lat.0), int(x, "refPos/lat").unwrap());
    assert_eq!(i64::from(sdsm.ref_pos.long.0), int(x, "refPos/long").unwrap());
    assert_eq!(sdsm.ref_pos.elevation.map(|e| i64::from(e.0)), int(x, "refPos/elevation"));
    assert_eq!(i64::from(sdsm.ref_pos_xy_conf.semi_major.0), int(x, "refPosXYConf/semiMajor").unwrap());
    assert_eq!(i64::from(sdsm.ref_pos_xy_conf.semi_minor.0), int(x, "refPosXYConf/semiMinor").unwrap());
    assert_eq!(i64::from(sdsm.ref_pos_xy_conf.orientation.0), int(x, "refPosXYConf/orientation").unwrap());
    let xer_objects: Vec<Node> = children(path(x, "objects").unwrap(), "DetectedObjectData").collect();
    assert_eq!(sdsm.objects.0.len(), xer_objects.len());
    for (object, xo) in sdsm.objects.0.iter().zip(xer_objects) {
        let c = &object.det_obj_common;
        let xc = path(xo, "detObjCommon").unwrap();
        assert_eq!(c.obj_type.asn1_name(), enum_name(xc, "objType").unwrap());
        assert_eq!(i64::from(c.obj_type_cfd.0), int(xc, "objTypeCfd").unwrap());
        assert_eq!(i64::from(c.object_id.0), int(xc, "objectID").unwrap());
        assert_eq!(i64::from(c.measurement_time.0), int(xc, "measurementTime").unwrap());
        assert_eq!(c.time_confidence.asn1_name(), enum_name(xc, "timeConfidence").unwrap());
        assert_eq!(i64::from(c.pos.offset_x.0), int(xc, "pos/offsetX").unwrap());
        assert_eq!(i64::from(c.pos.offset_y.0), int(xc, "pos/offsetY").unwrap());
        assert_eq!(c.pos.offset_z.map(|z| i64::from(z.0)), int(xc, "pos/offsetZ"));
        assert_eq!(c.pos_confidence.pos.asn1_name(), enum_name(xc, "posConfidence/pos").unwrap());
        assert_eq!(c.pos_confidence.elevation.asn1_name(), enum_name(xc, "posConfidence/elevation").unwrap());
        assert_eq!(i64::from(c.speed.0), int(xc, "speed").unwrap());
        assert_eq!(c.speed_confidence.asn1_name(), enum_name(xc, "speedConfidence").unwrap());
        assert_eq!(i64::from(c.heading.0), int(xc, "heading").unwrap());
        assert_eq!(c.heading_conf.asn1_name(), enum_name(xc, "headingConf").unwrap());
        assert_eq!(object.det_obj_opt_data.is_some(), path(xo, "detObjOptData").is_some());
    }
}

fn check_spat(spat: &j2735::spat::Spat, x: Node) {
    let xer_states: Vec<Node> = children(path(x, "intersections").unwrap(), "IntersectionState").collect();
    assert_eq!(spat.intersections.0.len(), xer_states.len());
    for (state, xs) in spat.intersections.0.iter().zip(xer_states) {
        assert_eq!(i64::from(state.id.id.0), int(xs, "id/id").unwrap());
        assert_eq!(state.id.region.map(|r| i64::from(r.0)), int(xs, "id/region"));
        assert_eq!(i64::from(state.revision.0), int(xs, "revision").unwrap());
        let status: String = state.status.0.iter().map(|bit| if *bit { '1' } else { '0' }).collect();
        assert_eq!(status, text(xs, "status").unwrap());
        assert_eq!(state.time_stamp.map(|t| i64::from(t.0)), int(xs, "timeStamp"));
        assert_eq!(state.moy.map(|t| i64::from(t.0)), int(xs, "moy"));
        let xer_movements: Vec<Node> = children(path(xs, "states").unwrap(), "MovementState").collect();
        assert_eq!(state.states.0.len(), xer_movements.len());
        for (movement, xm) in state.states.0.iter().zip(xer_movements) {
            assert_eq!(i64::from(movement.signal_group.0), int(xm, "signalGroup").unwrap());
            let xer_events: Vec<Node> =
                children(path(xm, "state-time-speed").unwrap(), "MovementEvent").collect();
            assert_eq!(movement.state_time_speed.0.len(), xer_events.len());
            for (event, xe) in movement.state_time_speed.0.iter().zip(xer_events) {
                assert_eq!(event.event_state.asn1_name(), enum_name(xe, "eventState").unwrap());
                let timing = event.timing.as_ref();
                assert_eq!(timing.map(|t| i64::from(t.min_end_time.0)), int(xe, "timing/minEndTime"));
                assert_eq!(
                    timing.and_then(|t| t.max_end_time).map(|t| i64::from(t.0)),
                    int(xe, "timing/maxEndTime")
                );
                assert_eq!(
                    timing.and_then(|t| t.start_time).map(|t| i64::from(t.0)),
                    int(xe, "timing/startTime")
                );
                assert_eq!(
                    timing.and_then(|t| t.likely_time).map(|t| i64::from(t.0)),
                    int(xe, "timing/likelyTime")
                );
            }
        }
    }
}

fn check_map(map: &j2735::map::MapData, x: Node) {
    assert_eq!(i64::from(map.msg_issue_revision.0), int(x, "msgIssueRevision").unwrap());
    assert_eq!(map.layer_type.map(|l| l.asn1_name().to_owned()), enum_name(x, "layerType"));
    assert_eq!(map.layer_id.map(|l| i64::from(l.0)), int(x, "layerID"));
    let xer_intersections: Vec<Node> =
        children(path(x, "intersections").unwrap(), "IntersectionGeometry").collect();
    let intersections = &map.intersections.as_ref().unwrap().0;
    assert_eq!(intersections.len(), xer_intersections.len());
    let mut nodes_checked = 0;
    for (geometry, xg) in intersections.iter().zip(xer_intersections) {
        assert_eq!(i64::from(geometry.id.id.0), int(xg, "id/id").unwrap());
        assert_eq!(i64::from(geometry.revision.0), int(xg, "revision").unwrap());
        assert_eq!(i64::from(geometry.ref_point.lat.0), int(xg, "refPoint/lat").unwrap());
        assert_eq!(i64::from(geometry.ref_point.long.0), int(xg, "refPoint/long").unwrap());
        assert_eq!(geometry.ref_point.elevation.map(|e| i64::from(e.0)), int(xg, "refPoint/elevation"));
        assert_eq!(geometry.lane_width.map(|w| i64::from(w.0)), int(xg, "laneWidth"));
        let xer_lanes: Vec<Node> = children(path(xg, "laneSet").unwrap(), "GenericLane").collect();
        assert_eq!(geometry.lane_set.0.len(), xer_lanes.len());
        for (lane, xl) in geometry.lane_set.0.iter().zip(xer_lanes) {
            assert_eq!(i64::from(lane.lane_id.0), int(xl, "laneID").unwrap());
            assert_eq!(lane.ingress_approach.map(|a| i64::from(a.0)), int(xl, "ingressApproach"));
            assert_eq!(lane.egress_approach.map(|a| i64::from(a.0)), int(xl, "egressApproach"));
            let NodeListXY::Nodes(nodes) = &lane.node_list else { panic!("computed lane in the sample") };
            let xer_nodes: Vec<Node> = children(path(xl, "nodeList/nodes").unwrap(), "NodeXY").collect();
            assert_eq!(nodes.0.len(), xer_nodes.len());
            for (node, xn) in nodes.0.iter().zip(xer_nodes) {
                let (choice, x_cm, y_cm) = match &node.delta {
                    NodeOffsetPointXY::NodeXy1(n) => ("node-XY1", i64::from(n.x.0), i64::from(n.y.0)),
                    NodeOffsetPointXY::NodeXy2(n) => ("node-XY2", i64::from(n.x.0), i64::from(n.y.0)),
                    NodeOffsetPointXY::NodeXy3(n) => ("node-XY3", i64::from(n.x.0), i64::from(n.y.0)),
                    NodeOffsetPointXY::NodeXy4(n) => ("node-XY4", i64::from(n.x.0), i64::from(n.y.0)),
                    NodeOffsetPointXY::NodeXy5(n) => ("node-XY5", i64::from(n.x.0), i64::from(n.y.0)),
                    NodeOffsetPointXY::NodeXy6(n) => ("node-XY6", i64::from(n.x.0), i64::from(n.y.0)),
                    other => panic!("unexpected node {other:?}"),
                };
                assert_eq!(Some(choice.to_owned()), enum_name(xn, "delta"));
                assert_eq!(x_cm, int(xn, &format!("delta/{choice}/x")).unwrap());
                assert_eq!(y_cm, int(xn, &format!("delta/{choice}/y")).unwrap());
                let d_elevation =
                    node.attributes.as_ref().and_then(|a| a.d_elevation).map(|d| i64::from(d.0));
                assert_eq!(d_elevation, int(xn, "attributes/dElevation"));
                nodes_checked += 1;
            }
            let connections: Vec<(i64, Option<i64>)> = lane
                .connects_to
                .iter()
                .flat_map(|list| list.0.iter())
                .map(|c| (i64::from(c.connecting_lane.lane.0), c.signal_group.map(|s| i64::from(s.0))))
                .collect();
            let xer_connections: Vec<(i64, Option<i64>)> = path(xl, "connectsTo")
                .map(|list| {
                    children(list, "Connection")
                        .map(|c| (int(c, "connectingLane/lane").unwrap(), int(c, "signalGroup")))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(connections, xer_connections);
        }
    }
    assert!(nodes_checked > 50, "only {nodes_checked} MAP nodes compared");
}

/// The MessageFrame bytes of a sample: from `<metadata><asn1>`.
fn sample(name: &str) -> (String, Vec<u8>) {
    let text =
        std::fs::read_to_string(j2735_path(&format!("jpo-ode_decoded_samples/decoder-output-{name}.xml")))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
    let document = roxmltree::Document::parse(&text).unwrap();
    let asn1 = path(document.root_element(), "metadata/asn1").unwrap().text().unwrap().trim().to_owned();
    (text.clone(), hex_to_bytes(&asn1))
}

#[test]
fn every_ode_sample_decodes_to_its_xer_and_round_trips() {
    let config = DecodeConfig::default();
    let mut supported = 0;
    for name in ["bsm", "map", "spat", "psm", "sdsm", "srm", "ssm", "tim"] {
        let (text, bytes) = sample(name);
        let document = roxmltree::Document::parse(&text).unwrap();
        let frame_xer = path(document.root_element(), "payload/data/MessageFrame").unwrap();
        let value_xer = path(frame_xer, "value").unwrap().children().find(|c| c.is_element()).unwrap();
        let xer_id = int(frame_xer, "messageId").unwrap();
        // The hex text path of the public decoder, as the CLI uses it.
        let asn1_text = path(document.root_element(), "metadata/asn1").unwrap().text().unwrap();
        let report = decode_input(asn1_text.as_bytes(), &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.hex_text);
        let frame = report.frames.first().unwrap_or_else(|| panic!("{name}: no frame"));
        assert_eq!(i64::from(frame.message_id), xer_id, "{name} messageId");
        let message = frame.message.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        match message {
            J2735Message::Bsm(bsm) => assert_eq!(check_bsm(bsm, value_xer, name), 15),
            J2735Message::Psm(psm) => check_psm(psm, value_xer),
            J2735Message::Sdsm(sdsm) => check_sdsm(sdsm, value_xer),
            J2735Message::Spat(spat) => check_spat(spat, value_xer),
            J2735Message::Map(map) => check_map(map, value_xer),
            J2735Message::Unsupported { message_id, .. } => {
                assert!([29, 30, 31].contains(message_id), "{name}: id {message_id} should be decoded");
                let view = view::frame_view(frame, report.envelope.as_ref());
                let json = serde_json::to_value(&view).unwrap();
                assert_eq!(json["note"], format!("unsupported message id {message_id}"));
            }
        }
        if message.is_supported() {
            supported += 1;
        }
        // encode(decode(x)) == x, on the frame's own octets.
        let frame_octets = if report.envelope.is_some() {
            let envelope = pitsense_v2x::ieee1609dot2::unwrap(&bytes).unwrap();
            envelope.payload[frame.offset_bytes..frame.offset_bytes + frame.length_bytes].to_vec()
        } else {
            bytes[frame.offset_bytes..frame.offset_bytes + frame.length_bytes].to_vec()
        };
        assert_eq!(j2735::encode_frame(message).unwrap(), frame_octets, "{name}: encode(decode(x)) != x");
    }
    assert_eq!(supported, 5);
}

#[test]
fn tim_sample_is_found_inside_its_1609dot2_header() {
    let (_, bytes) = sample("tim");
    let report = decode_input(&bytes, &DecodeConfig::default()).unwrap();
    assert!(report.envelope.is_some());
    assert_eq!(report.frames.first().unwrap().message_id, j2735::message_id::TIM);
}

#[test]
fn the_128_concatenated_bsms_match_their_xer() {
    let uper = std::fs::read(j2735_path("asn1_codec/j2735.MessageFrame.128.bsms.uper")).unwrap();
    let xer = std::fs::read_to_string(j2735_path("asn1_codec/j2735.MessageFrame.128.bsms.xer")).unwrap();
    let wrapped = format!("<frames>{xer}</frames>");
    let document = roxmltree::Document::parse(&wrapped).unwrap();
    let xer_frames: Vec<Node> = children(document.root_element(), "MessageFrame").collect();
    assert_eq!(xer_frames.len(), 128);

    let report = decode_input(&uper, &DecodeConfig::default()).unwrap();
    assert_eq!(report.frames.len(), 128);
    assert_eq!(report.trailing, None);
    let mut offset = 0;
    let mut re_encoded = Vec::with_capacity(uper.len());
    let mut points = 0;
    for (index, (frame, xf)) in report.frames.iter().zip(xer_frames).enumerate() {
        assert_eq!(frame.offset_bytes, offset);
        offset += frame.length_bytes;
        assert_eq!(i64::from(frame.message_id), int(xf, "messageId").unwrap());
        let Ok(J2735Message::Bsm(bsm)) = &frame.message else { panic!("frame {index} is not a BSM") };
        let xer_bsm = path(xf, "value/BasicSafetyMessage").unwrap();
        points += check_bsm(bsm, xer_bsm, &format!("BSM #{index}"));
        re_encoded.extend(j2735::encode_frame(frame.message.as_ref().unwrap()).unwrap());
    }
    assert_eq!(offset, uper.len());
    assert_eq!(points, 1152, "path history points compared");
    assert_eq!(re_encoded, uper, "encode(decode(128 BSMs)) != input");
}

#[test]
fn json_view_of_the_bsm_sample_is_in_si_units() {
    let (_, bytes) = sample("bsm");
    let report = decode_input(&bytes, &DecodeConfig::default()).unwrap();
    let views = view::report_views(&report);
    let json = serde_json::to_value(&views[0]).unwrap();
    assert_eq!(json["message_type"], "BSM");
    assert_eq!(json["message_id"], 20);
    assert_eq!(json["temporary_id"], "31325433");
    assert_eq!(json["sec_mark_ms"], 25399);
    assert!((json["lat_deg"].as_f64().unwrap() - 40.565_993_8).abs() < 1e-9);
    assert!((json["lon_deg"].as_f64().unwrap() + 105.031_775_4).abs() < 1e-9);
    assert!((json["elevation_m"].as_f64().unwrap() - 1440.9).abs() < 1e-9);
    assert!((json["speed_mps"].as_f64().unwrap() - 0.28).abs() < 1e-12);
    assert!((json["heading_rad"].as_f64().unwrap() - (25060.0f64 * 0.0125).to_radians()).abs() < 1e-12);
    assert_eq!(json["security"], serde_json::Value::Null);
    assert_eq!(json["part_ii_ids"], serde_json::json!([0, 2]));
}

#[test]
fn json_view_of_the_sdsm_sample_has_objects_in_metres() {
    let (_, bytes) = sample("sdsm");
    let report = decode_input(&bytes, &DecodeConfig::default()).unwrap();
    let json = serde_json::to_value(view::report_views(&report)).unwrap();
    let message = &json[0];
    assert_eq!(message["message_type"], "SDSM");
    assert_eq!(message["source_id"], "010c0c0a");
    assert_eq!(message["equipment_type"], "rsu");
    assert_eq!(message["timestamp"]["year"], 2024);
    let object = &message["objects"][0];
    assert_eq!(object["object_id"], 8010);
    assert_eq!(object["object_type"], "vru");
    assert!((object["offset_x_m"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    assert!((object["offset_y_m"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    assert!((object["position_confidence_m"].as_f64().unwrap() - 0.2).abs() < 1e-12);
    assert!((object["measurement_time_offset_s"].as_f64().unwrap() - 0.001).abs() < 1e-12);
}

#[test]
fn trailing_bytes_after_a_frame_are_reported_once() {
    // The PSM sample carries 13 octets after its 29-octet frame that are no frame.
    let (_, bytes) = sample("psm");
    let report = decode_input(&bytes, &DecodeConfig::default()).unwrap();
    assert_eq!(report.frames.len(), 1);
    assert!(matches!(report.frames[0].message, Ok(J2735Message::Psm(_))));
    let trailing = report.trailing.unwrap();
    assert_eq!((trailing.offset_bytes, trailing.length_bytes), (29, 13));
    assert!(trailing.reason.contains("at byte 29"), "{}", trailing.reason);
}

#[test]
fn map_udp_cases_decode_or_fail_cleanly() {
    let text =
        std::fs::read_to_string(j2735_path("jpo-ode_map_udp/UDPMAP_To_EncodedJSON_Validation.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = json["cases"].as_array().unwrap();
    // Case 0: a valid MAP: decodes and re-encodes to its own octets.
    let bytes = hex_to_bytes(cases[0]["input"].as_str().unwrap());
    let report = decode_input(&bytes, &DecodeConfig::default()).unwrap();
    let frame = &report.frames[0];
    let Ok(message @ J2735Message::Map(_)) = &frame.message else { panic!("case 0 is not a MAP: {frame:?}") };
    assert_eq!(j2735::encode_frame(message).unwrap(), bytes[..frame.length_bytes].to_vec());
    // Case 1: a MAP header followed by JSON text: the value fails to decode, with a reason,
    // and nothing panics.
    let bytes = hex_to_bytes(cases[1]["input"].as_str().unwrap());
    match decode_input(&bytes, &DecodeConfig::default()) {
        Ok(report) => {
            assert!(report.frames.iter().all(|frame| frame.message.is_err()) || report.trailing.is_some())
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

#[test]
fn capture_view_of_the_128_bsms_serialises_each_message() {
    let uper = std::fs::read(j2735_path("asn1_codec/j2735.MessageFrame.128.bsms.uper")).unwrap();
    let capture = view::decode_capture(&uper, &DecodeConfig::default()).unwrap();
    assert_eq!(capture.messages.len(), 128);
    let lines: Vec<String> = capture.messages.iter().map(|m| serde_json::to_string(m).unwrap()).collect();
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["message_type"], "BSM");
    assert_eq!(first["temporary_id"], "bea10000");
    assert_eq!(first["sec_mark_ms"], 59299);
    assert!((first["lat_deg"].as_f64().unwrap() - 41.164_214_3).abs() < 1e-9);
    // Deterministic: decoding again gives identical JSON.
    let again = view::decode_capture(&uper, &DecodeConfig::default()).unwrap();
    let again_lines: Vec<String> = again.messages.iter().map(|m| serde_json::to_string(m).unwrap()).collect();
    assert_eq!(lines, again_lines);
}

#[test]
fn map_and_spat_views_are_in_metres_and_seconds() {
    let (_, bytes) = sample("map");
    let capture = view::decode_capture(&bytes, &DecodeConfig::default()).unwrap();
    let map = serde_json::to_value(&capture.messages[0]).unwrap();
    assert_eq!(map["message_type"], "MAP");
    let intersection = &map["intersections"][0];
    assert_eq!(intersection["intersection_id"], 12110);
    assert!((intersection["ref_elevation_m"].as_f64().unwrap() - 1677.0).abs() < 1e-9);
    assert!((intersection["lane_width_m"].as_f64().unwrap() - 3.66).abs() < 1e-9);
    let lane = &intersection["lanes"][0];
    assert_eq!(lane["lane_id"], 2);
    assert!((lane["node_offsets_m"][0][0].as_f64().unwrap() - 22.25).abs() < 1e-9);
    assert!((lane["node_offsets_m"][0][1].as_f64().unwrap() - 8.08).abs() < 1e-9);
    assert_eq!(lane["connects_to_lanes"], serde_json::json!([19]));

    let (_, bytes) = sample("spat");
    let capture = view::decode_capture(&bytes, &DecodeConfig::default()).unwrap();
    let spat = serde_json::to_value(&capture.messages[0]).unwrap();
    let movement = &spat["intersections"][0]["movements"][0];
    assert_eq!(movement["signal_group"], 2);
    assert_eq!(movement["events"][0]["event_state"], "protected-Movement-Allowed");
    assert!((movement["events"][0]["min_end_time_s"].as_f64().unwrap() - 2212.0).abs() < 1e-9);
    assert_eq!(spat["intersections"][0]["timestamp_ms"], 35176);
}
