"""Peer measurement: YOLOX-Nano with onnxruntime in Python, timed the way pitsense is timed.

Same model, same image, same thread count; median of N runs after warm-ups, split into decode,
preprocess (Pillow bilinear letterbox, top-left, pad 114, BGR 0..255), inference and
postprocess (decode, score = obj * cls > 0.3, class-aware NMS at IoU 0.45). Written for
pitsense's `./x bench` from the contract in ../shared/data/SOURCES.md §1; prints one JSON line.
"""
import io
import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image


def letterbox(image, size=416):
    w, h = image.size
    r = min(size / h, size / w)
    resized = image.resize((int(w * r), int(h * r)), Image.BILINEAR)
    canvas = np.full((size, size, 3), 114, dtype=np.uint8)
    canvas[: resized.size[1], : resized.size[0]] = np.asarray(resized)
    return np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32)), r


def nms(boxes, scores, iou):
    order = scores.argsort()[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[order[1:], 0])
        yy1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx2 = np.minimum(boxes[i, 2], boxes[order[1:], 2])
        yy2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
        ratio = inter / (area(boxes[i]) + area(boxes[order[1:]]) - inter)
        order = order[1:][ratio <= iou]
    return keep


def postprocess(output, r, threshold=0.3, iou=0.45):
    grids, strides = [], []
    for s in (8, 16, 32):
        n = 416 // s
        xv, yv = np.meshgrid(np.arange(n), np.arange(n))
        grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
        strides.append(np.full((n * n, 1), s))
    grids, strides = np.concatenate(grids), np.concatenate(strides)
    out = output[0]
    xy = (out[:, :2] + grids) * strides
    wh = np.exp(out[:, 2:4]) * strides
    boxes = np.concatenate((xy - wh / 2, xy + wh / 2), 1) / r
    scores = out[:, 4:5] * out[:, 5:]
    result = []
    for c in range(scores.shape[1]):
        mask = scores[:, c] > threshold
        if mask.any():
            kept = nms(boxes[mask], scores[mask, c], iou)
            result += [(c, float(scores[mask, c][k])) for k in kept]
    return result


def main():
    model, image_path, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    data = open(image_path, "rb").read()
    times = {"decode": [], "preprocess": [], "inference": [], "postprocess": [], "total": []}
    for run in range(runs + 5):
        t0 = time.perf_counter()
        image = Image.open(io.BytesIO(data)).convert("RGB")
        t1 = time.perf_counter()
        tensor, r = letterbox(image)
        t2 = time.perf_counter()
        output = session.run(None, {"images": tensor})[0]
        t3 = time.perf_counter()
        detections = postprocess(output, r)
        t4 = time.perf_counter()
        if run >= 5:
            for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
                times[key].append(value * 1e3)
    print(json.dumps({key: statistics.median(values) for key, values in times.items()} | {"detections": len(detections)}))


if __name__ == "__main__":
    main()
