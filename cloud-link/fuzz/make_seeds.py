#!/usr/bin/env python3
"""Writes the seed inputs of cloud-link's fuzz targets into seeds/TARGET/ (run from anywhere;
needs the `mcap` PyPI package, which `./x setup` installs in the test venv).

Seeds are small on purpose (a fuzzer mutates short inputs fastest):
- an episode of 3 zstd chunks (a point cloud of 2 points, a JPEG-labelled image, 2D detections)
  with the `pitsense.episode` metadata record, its torn copy (cut inside the second chunk) and an
  uncompressed copy: mcap_recover and episode_reader;
- the upload protocol's wire messages: ingest replies, a manifest, and a whole transfer of a
  10-byte episode in 4-byte chunks (begin, chunks 0..2, end): upload_protocol.
"""
import base64
import hashlib
import io
import json
import pathlib
import struct

from mcap.writer import CompressionType, Writer

HERE = pathlib.Path(__file__).resolve().parent / "seeds"


def episode(compression: CompressionType) -> bytes:
    out = io.BytesIO()
    writer = Writer(out, chunk_size=256, compression=compression)
    writer.start(profile="", library="pitsense fuzz seeds")
    schemas = {}
    for name in ["foxglove.PointCloud", "foxglove.CompressedImage", "pitsense.Detections2d"]:
        schemas[name] = writer.register_schema(name=name, encoding="jsonschema", data=b"{}")
    cloud = writer.register_channel("/lidar0/points", "json", schemas["foxglove.PointCloud"])
    image = writer.register_channel("/camera0/image", "json", schemas["foxglove.CompressedImage"])
    dets = writer.register_channel("/camera0/detections", "json", schemas["pitsense.Detections2d"])
    points = struct.pack("<8f", 1.0, 2.0, 0.5, 10.0, -3.0, 4.0, 1.5, 20.0)
    fields = [{"name": n, "offset": o, "type": 7} for n, o in [("x", 0), ("y", 4), ("z", 8), ("intensity", 12)]]
    for i in range(3):
        stamp = {"sec": 1 + i, "nsec": 500}
        t = (1 + i) * 1_000_000_000 + 500
        writer.add_message(cloud, t, json.dumps({
            "timestamp": stamp, "frame_id": "lidar0", "point_stride": 16, "fields": fields,
            "data": base64.b64encode(points).decode(), "pose": None,
        }).encode(), t, sequence=i)
        writer.add_message(image, t, json.dumps({
            "timestamp": stamp, "frame_id": "camera0", "format": "jpeg",
            "data": base64.b64encode(b"\xff\xd8\xff\xd9").decode(),
        }).encode(), t, sequence=i)
        writer.add_message(dets, t, json.dumps({
            "stamp_ns": t, "frame_id": "camera0", "seq": i, "detections": [{
                "x1_px": 10.0, "y1_px": 20.0, "x2_px": 30.0, "y2_px": 60.0,
                "class_index": 0, "class_label": "person", "score": 0.9}],
        }).encode(), t, sequence=i)
    writer.add_metadata("pitsense.episode", {"truck_id": "truck-7", "trigger_reason": "manual"})
    writer.finish()
    return out.getvalue()


def main() -> None:
    full = episode(CompressionType.ZSTD)
    plain = episode(CompressionType.NONE)
    for target in ["mcap_recover", "episode_reader"]:
        (HERE / target / "episode_zstd.mcap").write_bytes(full)
        (HERE / target / "episode_plain.mcap").write_bytes(plain)
    (HERE / "mcap_recover" / "episode_torn.mcap").write_bytes(full[: len(full) // 2])

    wire = HERE / "upload_protocol"
    (wire / "reply_ack").write_bytes(b"\x00" + json.dumps({"reply": "ack", "next_chunk": 3}).encode())
    (wire / "reply_stored").write_bytes(b"\x00" + json.dumps({"reply": "stored", "store_path": "2026-12-04/t/e.mcap"}).encode())
    body = b"0123456789"
    sha = hashlib.sha256(body).hexdigest()
    manifest = {"truck_id": "truck-7", "file_name": "e.mcap", "size_bytes": len(body), "sha256": sha,
                "chunk_size_bytes": 4, "priority": "normal", "recorded_ns": 1_764_806_400_000_000_000}
    (wire / "manifest").write_bytes(b"\x01" + json.dumps(manifest).encode())
    key = f"pitsense/ingest/truck-7/{sha}"
    requests = [(f"{key}/begin", json.dumps(manifest).encode(), b"")]
    for index in range(3):
        chunk = body[index * 4:(index + 1) * 4]
        requests.append((f"{key}/chunk/{index}", chunk, hashlib.sha256(chunk).hexdigest().encode()))
    requests.append((f"{key}/end", b"", b""))
    sequence = b"".join(k.encode() + b"\0" + p + b"\0" + a + b"\0" for k, p, a in requests)
    (wire / "transfer").write_bytes(b"\x02" + sequence)


if __name__ == "__main__":
    main()
