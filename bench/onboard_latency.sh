#!/usr/bin/env bash
# End-to-end latency of `pitsense run` on this machine, with the camera detector:
#   bench/onboard_latency.sh [FRAMES] (default 3000, 10 Hz: 5 minutes)
# Release builds of the truck's `pitsense` (no default features: camera only, no Rerun; its
# stripped size is printed) and of `pitsense-hil`; config/examples/loopback.toml (its camera
# video written first from the KITTI images with OpenCV); the shared OS-2-128 capture looped over
# UDP at its recorded pace; SIGTERM at the end. Prints the runtime's summary: frames, late frames,
# end-to-end latency p50/p99/max (last lidar packet's arrival to publication), drops per edge.
# Peak RSS from /proc while it runs, and the CPU time the runtime used per frame. Figures only:
# nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES="${1:-3000}"
DATA="$(cd "${PITSENSE_DATA:-../shared/data}" && pwd)"
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/pitsense-target}"
# Two builds: one cargo invocation would unify the runtime's features with the harness's.
cargo build --release --quiet -p pitsense-runtime --no-default-features --features camera-opencv --bin pitsense
cargo build --release --quiet -p pitsense-hil --bin pitsense-hil
BIN="$TARGET/release"
mkdir -p out/loopback
strip -o out/loopback/pitsense.stripped "$BIN/pitsense"
echo "truck binary: $(stat -c %s "$BIN/pitsense") bytes, stripped $(stat -c %s out/loopback/pitsense.stripped) bytes"
"$BIN/pitsense-hil" video --out out/loopback/camera.avi --frames $((FRAMES + 50)) --fps 10 \
  --image "$DATA/kitti/object/training/image_2/000000.png" \
  --image "$DATA/kitti/object/training/image_2/000001.png" \
  --image "$DATA/kitti/object/training/image_2/000002.png"
rm -f out/run/health.jsonl
"$BIN/pitsense" run --config config/examples/loopback.toml --data-root "$DATA" > out/loopback/summary.txt &
pid=$!
for _ in $(seq 200); do [ -s out/run/health.jsonl ] && break; sleep 0.1; done
peak_kib=0
( while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    echo "$rss"; sleep 1
  done ) > out/loopback/rss_kib.txt &
sampler=$!
"$BIN/pitsense-hil" play-ouster --to 127.0.0.1:7502 --passes "$FRAMES" \
  --pcap "$DATA/lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap" \
  --metadata "$DATA/lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json"
sleep 0.5
# utime + stime (fields 14 and 15 of /proc/PID/stat), clock ticks.
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
kill -TERM "$pid"
wait "$pid" || true
wait "$sampler" || true
cat out/loopback/summary.txt
peak_kib=$(sort -n out/loopback/rss_kib.txt | tail -1)
first_kib=$(sed -n 5p out/loopback/rss_kib.txt)
last_kib=$(tail -1 out/loopback/rss_kib.txt)
echo "RSS KiB: after 5 s ${first_kib:-?}, at the end ${last_kib:-?}, peak ${peak_kib:-?}"
hz=$(getconf CLK_TCK)
echo "CPU: $cpu_ticks ticks of 1/$hz s over $FRAMES frames: $(awk -v t="$cpu_ticks" -v hz="$hz" -v n="$FRAMES" 'BEGIN {printf "%.1f ms per frame", 1000 * t / hz / n}')"
