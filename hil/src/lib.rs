//! Simulated hardware-in-the-loop.
//!
//! Role: run the real runtime against simulated or recorded sensors over their real interfaces
//! (lidar UDP packets, camera frames, V2X UDP, CAN-over-UDP or SocketCAN where the kernel allows
//! it) in seeded scenarios — dust, haul ramps, blind intersections, people near trucks — and check
//! the published object list against the scenario's ground truth.
//!
//! Today: [`player`], which plays recorded lidar and V2X traffic over UDP at its recorded pace
//! (the onboard runtime's live tests and latency bench use it).

pub mod player;
