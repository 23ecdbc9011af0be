"""Reads a pcap of Ouster lidar packets with the vendor's SDK (PyPI `ouster-sdk`), an
independent decoder, and writes each frame's RANGE image (mm) and XYZ (sensor frame, m) as raw
little-endian float64: OUT/range_<n>.f64 (H x W, staggered) and OUT/xyz_<n>.f64 (H x W x 3).

Usage: python ouster_sdk_points.py CAPTURE.pcap METADATA.json OUT_DIR
"""
import os
import sys

import numpy as np
from ouster.sdk import core, open_source


def main() -> None:
    pcap, metadata, out = sys.argv[1:4]
    source = open_source(pcap, meta=[metadata], index=False)
    info = source.sensor_info[0]
    xyz_lut = core.XYZLut(info)
    frames = 0
    for scans in source:
        scan = scans[0]
        if scan is None:
            continue
        ranges = scan.field(core.ChanField.RANGE).astype("<f8")
        xyz = xyz_lut(scan).astype("<f8")
        ranges.tofile(os.path.join(out, f"range_{frames}.f64"))
        xyz.tofile(os.path.join(out, f"xyz_{frames}.f64"))
        frames += 1
    if frames == 0:
        sys.exit(f"{pcap}: the Ouster SDK found no complete frame")
    print(f"{pcap}: {frames} frames, {info.format.pixels_per_column}x{info.format.columns_per_frame}, "
          f"{info.format.udp_profile_lidar}")


if __name__ == "__main__":
    main()
