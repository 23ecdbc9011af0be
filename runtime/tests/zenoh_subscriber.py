"""Independent client of pitsense's zenoh outputs, for runtime/tests/zenoh_outputs.rs.

Connects to one endpoint (multicast scouting off), subscribes to
pitsense/truck/<truck_id>/{objects,health,latency}, waits until it has one sample of each
(or the timeout passes), decodes the objects with rosbags' typestore (ROS 2 Humble types plus
the shipped autoware_perception_msgs .msg files), re-serializes them with rosbags to compare
bytes, and prints one JSON document on stdout (with the object ids expected for TRACK_IDs,
computed here from RFC 9562's construction). Exit code 0 when every key arrived, 2 on timeout.

Usage: zenoh_subscriber.py ENDPOINT TRUCK_ID MSG_DIR TIMEOUT_S [TRACK_ID ...]
"""

import json
import os
import queue
import sys
import time
import hashlib
import uuid
from pathlib import Path

import zenoh
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

AUTOWARE_MESSAGES = [
    "TrackedObjects",
    "TrackedObject",
    "TrackedObjectKinematics",
    "ObjectClassification",
    "Shape",
]


def typestore(msg_dir: Path):
    store = get_typestore(Stores.ROS2_HUMBLE)
    types = {}
    for name in AUTOWARE_MESSAGES:
        text = (msg_dir / "autoware_perception_msgs" / "msg" / f"{name}.msg").read_text()
        types.update(get_types_from_msg(text, f"autoware_perception_msgs/msg/{name}"))
    store.register(types)
    return store


def vector(v):
    return [v.x, v.y, v.z]


def uuid_v8(truck_id: str, track_id: int) -> str:
    """RFC 9562 Appendix B.2 name-based UUIDv8 (SHA-256), URL namespace, written out here."""
    name = f"pitsense:truck/{truck_id}/track/{track_id}".encode()
    raw = bytearray(hashlib.sha256(uuid.NAMESPACE_URL.bytes + name).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def decode_objects(store, payload: bytes):
    msg = store.deserialize_cdr(payload, "autoware_perception_msgs/msg/TrackedObjects")
    objects = []
    for obj in msg.objects:
        kin = obj.kinematics
        pose = kin.pose_with_covariance.pose
        twist = kin.twist_with_covariance.twist
        accel = kin.acceleration_with_covariance.accel
        objects.append(
            {
                "object_id": str(uuid.UUID(bytes=bytes(obj.object_id.uuid.tolist()))),
                "existence_probability": float(obj.existence_probability),
                "classification": [
                    {"label": int(c.label), "probability": float(c.probability)}
                    for c in obj.classification
                ],
                "position": vector(pose.position),
                "orientation": [
                    pose.orientation.x,
                    pose.orientation.y,
                    pose.orientation.z,
                    pose.orientation.w,
                ],
                "pose_covariance": kin.pose_with_covariance.covariance.tolist(),
                "twist_linear": vector(twist.linear),
                "twist_angular": vector(twist.angular),
                "twist_covariance": kin.twist_with_covariance.covariance.tolist(),
                "accel": vector(accel.linear) + vector(accel.angular),
                "accel_covariance": kin.acceleration_with_covariance.covariance.tolist(),
                "orientation_availability": int(kin.orientation_availability),
                "is_stationary": bool(kin.is_stationary),
                "shape_type": int(obj.shape.type),
                "footprint_points": len(obj.shape.footprint.points),
                "dimensions": vector(obj.shape.dimensions),
            }
        )
    reserialized = bytes(store.serialize_cdr(msg, "autoware_perception_msgs/msg/TrackedObjects"))
    return {
        "stamp_sec": int(msg.header.stamp.sec),
        "stamp_nanosec": int(msg.header.stamp.nanosec),
        "frame_id": msg.header.frame_id,
        "objects": objects,
        "rosbags_reserialized_equal": reserialized == payload,
        "payload_len": len(payload),
    }


def main() -> int:
    endpoint, truck_id, msg_dir, timeout_s = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
    store = typestore(msg_dir)
    # The label constants as rosbags parsed them from the shipped ObjectClassification.msg.
    classification = store.types["autoware_perception_msgs/msg/ObjectClassification"]
    constants = {
        name: getattr(classification, name)
        for name in ["UNKNOWN", "CAR", "TRUCK", "BUS", "TRAILER", "MOTORCYCLE", "BICYCLE", "PEDESTRIAN", "ANIMAL"]
    }

    config = zenoh.Config.from_json5(
        json.dumps(
            {
                "mode": "client",
                "connect": {"endpoints": [endpoint]},
                "scouting": {"multicast": {"enabled": False}},
            }
        )
    )
    samples = queue.Queue()
    session = zenoh.open(config)
    prefix = f"pitsense/truck/{truck_id}"
    subscribers = [
        session.declare_subscriber(
            f"{prefix}/{topic}",
            lambda sample, topic=topic: samples.put(
                (topic, str(sample.encoding), sample.payload.to_bytes())
            ),
        )
        for topic in ["objects", "health", "latency"]
    ]
    # Tell the publisher we are subscribed: it publishes until this process exits.
    print("subscribed", file=sys.stderr, flush=True)

    received = {}
    deadline = time.monotonic() + timeout_s
    while len(received) < 3 and time.monotonic() < deadline:
        try:
            topic, encoding, payload = samples.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if topic in received:
            continue
        if topic == "objects":
            decoded = decode_objects(store, payload)
            # PITSENSE_MIN_OBJECTS: wait for a list with at least that many objects (a live run).
            if len(decoded["objects"]) < int(os.environ.get("PITSENSE_MIN_OBJECTS", "0")):
                continue
            received[topic] = {"encoding": encoding, **decoded}
        else:
            received[topic] = {"encoding": encoding, "json": json.loads(payload)}

    for subscriber in subscribers:
        subscriber.undeclare()
    session.close()
    track_ids = [int(t) for t in sys.argv[5:]]
    print(
        json.dumps(
            {
                "received": received,
                "label_constants": constants,
                "expected_uuids": {str(t): uuid_v8(truck_id, t) for t in track_ids},
            }
        )
    )
    return 0 if len(received) == 3 else 2


if __name__ == "__main__":
    sys.exit(main())
