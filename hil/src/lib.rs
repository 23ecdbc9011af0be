//! Simulated hardware-in-the-loop.
//!
//! Role: run the real runtime against simulated or recorded sensors over their real interfaces
//! (lidar UDP packets, GNSS NMEA over UDP) in seeded scenarios — dust, haul ramps, people near
//! trucks — with the faults a mine produces, and check the published object list against the
//! scenario's ground truth.
//!
//! - [`player`]: plays recorded lidar traffic over UDP at its recorded pace (the onboard
//!   runtime's live tests and latency bench use it).
//! - [`faults`]: packet loss, bursts, delay, jitter, reordering, duplication, sensor death, clock
//!   jumps, malformed packets, CPU starvation and a cut zenoh link, applied to a play schedule.
//! - [`harness`]: one scenario played into `pitsense run` as a child process, measured from its
//!   zenoh outputs (`pitsense-hil run`).
//! - [`recording`]: a recorded lidar capture played into `pitsense run` the same way, its
//!   output compared byte for byte with `pitsense run --replay` of what was sent.
//! - [`can_out`]: the runtime's CAN output frames (health, nearest objects) decoded as the
//!   truck's ECU receives them over CAN-over-UDP.
//! - [`proxy`]: the TCP proxy that cuts the zenoh link (`zenoh_cut`).
//! - [`rsu`]: SAE J3224 SDSMs of the actors, and spoofed ones (`rsu_spoof`).
//! - [`objects`]: the `TrackedObjects` CDR decoder the harness reads the runtime's output with.
//! - [`report`]: the JUnit XML and `summary.json` over several runs; [`plots`]: PNG plots of
//!   latency and the runtime's RSS and CPU.

pub mod can_out;
pub mod faults;
pub mod harness;
pub mod objects;
pub mod player;
pub mod plots;
pub mod proxy;
pub mod recording;
pub mod report;
pub mod rsu;
