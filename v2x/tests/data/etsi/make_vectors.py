#!/usr/bin/env python3
"""Independent ETSI test vectors for pitsense-v2x: CAM and CPM encoded by asn1tools.

asn1tools (PyPI, pure Python, its own UPER codec) compiles the same ETSI modules the Rust types
are generated from: CDD TS 102 894-2 v2.4.1, CAM TS 103 900 v2.3.1, CPM TS 103 324 v2.1.1.
Each vector's value below is written by hand with its physical meaning in the comment; the
encoder's UPER hex and the value (as asn1tools decodes it back) go to vectors.json. The CPM's
containers are open types (`containerData`): they are encoded on their own and wrapped.

Usage: make_vectors.py DATA_ROOT OUT.json   (needs `pip install asn1tools==0.169.0`)
"""
import glob
import json
import os
import sys

import asn1tools


def compile_etsi(data_root):
    root = os.path.join(data_root, "v2x/etsi_asn1/release2")
    files = [os.path.join(root, "TS102894-2v241-CDD.asn"), os.path.join(root, "TS103900v231-CAM.asn")]
    files += sorted(glob.glob(os.path.join(root, "TS103324v211/*.asn")))
    # The CDD file is ISO-8859-1 (a 0xB4 in a comment).
    text = "\n".join(open(f, "rb").read().decode("latin-1") for f in files)
    return asn1tools.compile_string(text, "uper")


def reference_position(lat_e7, lon_e7, altitude_cm):
    return {
        "latitude": lat_e7,
        "longitude": lon_e7,
        # 1-sigma-ish ellipse: 0.5 m x 0.2 m (cm), major axis at 30.0 deg (0.1 deg).
        "positionConfidenceEllipse": {"semiMajorConfidence": 50, "semiMinorConfidence": 20,
                                      "semiMajorOrientation": 300},
        "altitude": {"altitudeValue": altitude_cm, "altitudeConfidence": "alt-000-20"},
    }


def cam(spec):
    # A haul truck near the Escondida pit (24.27 S, 69.07 W), 3100.5 m, heading 45.0 deg,
    # 12.34 m/s, generationDeltaTime 12345 ms.
    value = {
        "header": {"protocolVersion": 2, "messageId": 2, "stationId": 3001},
        "cam": {
            "generationDeltaTime": 12345,
            "camParameters": {
                "basicContainer": {
                    "stationType": 8,  # heavyTruck
                    "referencePosition": {
                        "latitude": -242700000,
                        "longitude": -690700000,
                        "positionConfidenceEllipse": {"semiMajorAxisLength": 120, "semiMinorAxisLength": 80,
                                                      "semiMajorAxisOrientation": 900},
                        "altitude": {"altitudeValue": 310050, "altitudeConfidence": "alt-001-00"},
                    },
                },
                "highFrequencyContainer": ("basicVehicleContainerHighFrequency", {
                    "heading": {"headingValue": 450, "headingConfidence": 10},
                    "speed": {"speedValue": 1234, "speedConfidence": 5},
                    "driveDirection": "forward",
                    "vehicleLength": {"vehicleLengthValue": 130, "vehicleLengthConfidenceIndication": "noTrailerPresent"},
                    "vehicleWidth": 61,  # outOfRange: a 7.5 m wide haul truck is over 6.1 m
                    "longitudinalAcceleration": {"value": -15, "confidence": 102},
                    "curvature": {"curvatureValue": 0, "curvatureConfidence": "unavailable"},
                    "curvatureCalculationMode": "yawRateUsed",
                    "yawRate": {"yawRateValue": 0, "yawRateConfidence": "unavailable"},
                }),
            },
        },
    }
    return value, spec.encode("CAM", value)


def perceived_object(object_id, x_cm, y_cm, vx_cms, vy_cms, length_dm, width_dm, yaw_ddeg, klass):
    obj = {
        "objectId": object_id,
        "measurementDeltaTime": -20,
        "position": {
            "xCoordinate": {"value": x_cm, "confidence": 50},
            "yCoordinate": {"value": y_cm, "confidence": 80},
            "zCoordinate": {"value": 100, "confidence": 200},
        },
        "objectDimensionX": {"value": length_dm, "confidence": 3},
        "objectDimensionY": {"value": width_dm, "confidence": 2},
        "objectDimensionZ": {"value": 17, "confidence": 2},
    }
    if klass is not None:
        obj["classification"] = [{"objectClass": klass, "confidence": 90}]
    if vx_cms is not None:
        obj["velocity"] = ("cartesianVelocity", {
            "xVelocity": {"value": vx_cms, "confidence": 20},
            "yVelocity": {"value": vy_cms, "confidence": 20},
        })
    if yaw_ddeg is not None:
        obj["angles"] = {"zAngle": {"value": yaw_ddeg, "confidence": 30}}
    return obj


def cpm(spec):
    # An RSU at a blind intersection of the haul road: reference position 24.2712345 S,
    # 69.0754321 W, 3105.25 m; referenceTime 2024-06-01T12:00:00.000Z as TimestampIts
    # (ms since 2004-01-01, +5 leap seconds).
    objects = [
        # A light vehicle 25.00 m east and 12.50 m north of the RSU, 1.00 m up, moving at
        # (3.00, -4.00) m/s, 4.5 x 1.8 x 1.7 m, yaw 306.9 deg (0.1 deg), unclassified.
        # (No vehicleSubClass: asn1tools 0.169 cannot decode its own encoding of that
        # alternative, whose constraint is the union (unknown|passengerCar..tram|agricultural).)
        perceived_object(11, 2500, 1250, 300, -400, 45, 18, 3069, None),
        # A person 7.25 m west and 30.00 m south, no velocity, no angle.
        perceived_object(12, -725, -3000, None, None, 6, 6, None, ("vruSubClass", ("pedestrian", 1))),
    ]
    poc = spec.encode("PerceivedObjectContainer", {"numberOfPerceivedObjects": 2, "perceivedObjects": objects})
    rsu = spec.encode("OriginatingRsuContainer", {})
    reference_time = 644_328_005_000  # 2024-06-01T12:00:00Z: 644 328 000 s since 2004 + 5 leap s
    value = {
        "header": {"protocolVersion": 2, "messageId": 14, "stationId": 424242},
        "payload": {
            "managementContainer": {
                "referenceTime": reference_time,
                "referencePosition": reference_position(-242712345, -690754321, 310525),
            },
            "cpmContainers": [
                {"containerId": 2, "containerData": rsu},
                {"containerId": 5, "containerData": poc},
            ],
        },
    }
    return value, objects, spec.encode("CollectivePerceptionMessage", value)


def main():
    data_root, out = sys.argv[1], sys.argv[2]
    spec = compile_etsi(data_root)
    cam_value, cam_bytes = cam(spec)
    cpm_value, cpm_objects, cpm_bytes = cpm(spec)
    # Round trip through asn1tools itself: what it decodes is what it encoded.
    decoded = spec.decode("CAM", cam_bytes)
    assert decoded == cam_value, (decoded, cam_value)
    assert spec.decode("CollectivePerceptionMessage", cpm_bytes) == cpm_value
    poc = spec.decode("PerceivedObjectContainer", cpm_value["payload"]["cpmContainers"][1]["containerData"])
    assert poc["perceivedObjects"] == cpm_objects, poc
    vectors = {
        "generator": "asn1tools " + asn1tools.__version__,
        "cam": {"hex": cam_bytes.hex()},
        "cpm": {
            "hex": cpm_bytes.hex(),
            "perceived_object_container_hex": spec.encode(
                "PerceivedObjectContainer", {"numberOfPerceivedObjects": 2, "perceivedObjects": cpm_objects}).hex(),
        },
    }
    with open(out, "w") as f:
        json.dump(vectors, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
