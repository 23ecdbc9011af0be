#!/usr/bin/env python3
"""Independent CSAE test vector for pitsense-v2x: a made-up T/CSAE 157-2020 SSM encoded by asn1tools.

asn1tools (PyPI, pure Python, its own UPER codec) compiles the T/CSAE 157-2020 ("Day II") modules
from the shared data (no licence: read in place, nothing of them is committed). The message is the
one `made_up_ssm()` in v2x/tests/csae_measurement.rs builds with the Rust types: sensorPos 0 N 0 E
0 m; participant 1, a pedestrian 900 x 1e-7 degree north (position-LL1); participant 2, a motor
vehicle 4.5 x 1.8 m heading east at the absolute position 1000, 1000 x 1e-7 degree
(position-LatLon); obstacle 3, a 3 x 2 x 1 m rockfall 450 units south and 900 east
(position-LL2). The SSM is encoded on its own and wrapped in MessageFrame.msgFrameExt (messageId
12, the open type as length-prefixed octets). Prints the frame's UPER hex.

Usage: make_ssm_vector.py DATA_ROOT   (needs `pip install asn1tools==0.169.0`)
"""
import glob
import os
import sys

import asn1tools


def main(data_root):
    files = sorted(glob.glob(os.path.join(data_root, "v2x/csae/nolicence_csae157_dayII/*.asn")))
    # The modules have GBK comments: read them as Latin-1 (comments only).
    spec = asn1tools.compile_files(files, "uper", encoding="latin-1")
    common = {"source": "lidar", "secMark": 5000, "posConfidence": {"pos": "a1m"}, "speed": 0}
    p1 = dict(common, ptcType="pedestrian", ptcId=1, heading=0, size={"width": 0, "length": 0},
              pos={"offsetLL": ("position-LL1", {"lon": 0, "lat": 900})})
    p2 = dict(common, ptcType="motor", ptcId=2, heading=7200, size={"width": 180, "length": 450},
              pos={"offsetLL": ("position-LatLon", {"lon": 1000, "lat": 1000})})
    obstacle = {"obsType": "rockfall", "objTypeConfidence": 180, "obsId": 3, "source": "lidar",
                "secMark": 5000, "pos": {"offsetLL": ("position-LL2", {"lon": 900, "lat": -450})},
                "posConfidence": {"pos": "a50cm"}, "speed": 0, "heading": 0,
                "size": {"width": 20, "length": 30, "height": 10}}
    ssm = {"msgCnt": 42, "id": b"RSU-0001", "equipmentType": "rsu", "secMark": 5000,
           "sensorPos": {"lat": 0, "long": 0, "elevation": 0},
           "participants": [{"ptc": p1, "typeConfidence": 200}, {"ptc": p2, "typeConfidence": 150}],
           "obstacles": [obstacle]}
    value = spec.encode("SensorSharingMsg", ssm)
    frame = spec.encode("MessageFrame", ("msgFrameExt", {"messageId": 12, "value": value}))
    print(frame.hex())


if __name__ == "__main__":
    main(sys.argv[1])
