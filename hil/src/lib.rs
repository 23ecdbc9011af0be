//! Simulated hardware-in-the-loop (not filled yet).
//!
//! Role: run the real runtime against simulated sensors over their real interfaces (lidar UDP
//! packets, camera frames, V2X UDP, CAN-over-UDP or SocketCAN where the kernel allows it) in
//! seeded scenarios — dust, haul ramps, blind intersections, people near trucks — and check the
//! published object list against the scenario's ground truth.
//!
//! Inputs: seeded scenarios (from `pitsense-sim`) and the `pitsense` runtime. Outputs: pass/fail
//! verdicts with per-scenario metrics for simulation CI.
