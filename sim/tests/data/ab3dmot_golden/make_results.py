"""Seeded noisy 'tracker output' from KITTI tracking ground truth (pitsense sim golden tests).

usage: make_results.py SEED LABEL_DIR SEQMAP OUT_DIR

Per ground-truth track of Car/Van/Pedestrian/Person_sitting/Cyclist: 10 % of its boxes dropped,
15 % of tracks switch to a new id at a random frame, 3D/2D jitter, a per-track score with
per-box noise; Van is written as Car and Person_sitting as Pedestrian. Plus 0-2 false positives
per frame (random boxes, some on DontCare regions, some under 25 px tall).
"""
import os, random, sys
seed, label_dir, seqmap, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rng = random.Random(seed)
os.makedirs(out, exist_ok=True)
seqs = [l.split()[0] for l in open(seqmap) if l.strip()]
rename = {"Van": "Car", "Person_sitting": "Pedestrian"}
for s in seqs:
    lines = [l.split() for l in open(os.path.join(label_dir, s + ".txt"))]
    by_track, dcs = {}, {}
    for f in lines:
        if f[2] == "DontCare":
            dcs.setdefault(int(f[0]), []).append(f)
        elif f[2] in ("Car", "Van", "Pedestrian", "Person_sitting", "Cyclist"):
            by_track.setdefault(int(f[1]), []).append(f)
    rows, next_id = [], 1000
    nframes = max(int(f[0]) for f in lines) + 1
    for tid, objs in sorted(by_track.items()):
        typ = rename.get(objs[0][2], objs[0][2])
        base_score = rng.uniform(-1, 10)
        cur = next_id; next_id += 1
        switch_at = rng.randrange(len(objs)) if rng.random() < 0.15 else -1
        sigma = rng.choice([0.05, 0.2, 0.5])
        for k, f in enumerate(objs):
            if k == switch_at:
                cur = next_id; next_id += 1
            if rng.random() < 0.1:
                continue
            x1, y1, x2, y2 = [float(v) + rng.gauss(0, 3) for v in f[6:10]]
            h, w, l = [max(0.2, float(v) * (1 + rng.gauss(0, 0.05))) for v in f[10:13]]
            x, y, z = [float(v) + rng.gauss(0, sigma) for v in f[13:16]]
            ry = float(f[16]) + rng.gauss(0, 0.1)
            rows.append((int(f[0]), cur, typ, float(f[5]), x1, y1, x2, y2, h, w, l, x, y, z, ry,
                         base_score + rng.gauss(0, 0.5)))
    for fr in range(nframes):
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            typ = rng.choice(["Car", "Car", "Pedestrian", "Cyclist"])
            x, z, y = rng.uniform(-15, 15), rng.uniform(5, 50), rng.uniform(1.4, 2.0)
            hh, cx, cy = rng.uniform(10, 120), rng.uniform(0, 1200), rng.uniform(150, 300)
            x1, y1, x2, y2 = cx, cy - hh, cx + hh * 1.5, cy
            if fr in dcs and rng.random() < 0.3:
                x1, y1, x2, y2 = [float(v) for v in rng.choice(dcs[fr])[6:10]]
            h, w, l = (1.5, 1.6, 3.9) if typ == "Car" else (1.7, 0.6, 0.8)
            rows.append((fr, next_id, typ, -1.0, x1, y1, x2, y2, h, w, l, x, y, z,
                         rng.uniform(-3, 3), rng.uniform(-2, 3)))
            next_id += 1
    rows.sort(key=lambda r: (r[0], r[1]))
    with open(os.path.join(out, s + ".txt"), "w") as fh:
        for r in rows:
            fh.write("%d %d %s 0 0 %f %f %f %f %f %f %f %f %f %f %f %f %f\n" % r)
