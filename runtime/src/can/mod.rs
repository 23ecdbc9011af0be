//! Vehicle CAN: buses, the DBC codec, the truck's own signals in, pitsense's objects and health
//! out.
//!
//! ```text
//!  bus (CanBus)                          DBC (Dbc)                       runtime
//!  socketcan:can0 ──┐
//!  udp:ADDR ────────┼─> CanFrame ─> VehicleSignalDecoder ─> VehicleSignals (speed, yaw rate,
//!  candump:FILE ────┘               (counters: CanInputCounters)          gear, brake)
//!
//!  tracks + HealthReport ─> CanOutputEncoder ─> CanFrame ─> bus.send (PITSENSE_HEALTH,
//!                                                                     PITSENSE_OBJECT × N)
//! ```
//!
//! - [`CanBus`] is one vehicle bus; [`open_bus`] opens one from a URI: `socketcan:IFACE`
//!   (Linux SocketCAN, the real backend), `udp:ADDR[?peer=ADDR]` (CAN over UDP in the
//!   cannelloni format, for tests and for bridging), `candump:FILE` (replay of a can-utils
//!   `candump -l` log) and `candump-write:FILE` (recording to such a log).
//! - [`Dbc`] decodes and encodes frames with a DBC file's layout (parsed by the `can-dbc`
//!   crate; the bit-level codec is ours and is checked against Python `cantools`).
//! - [`VehicleSignalDecoder`] turns frames into [`pitsense_types::VehicleSignals`] through
//!   [`CanInputConfig`]'s mapping.
//! - [`CanOutputEncoder`] turns the nearest objects and the health report into the frames of
//!   the shipped `config/truck.dbc` through [`CanOutputConfig`].
//!
//! Nothing here reads the wall clock: live buses stamp frames with an injected
//! [`pitsense_types::Clock`]; the candump reader stamps them from the log.

mod bus;
pub(crate) mod candump;
mod cannelloni;
mod config;
pub(crate) mod dbc;
mod output;
mod socketcan_bus;
mod vehicle;

pub use bus::{BusUri, CanBus, CanError, open_bus};
pub use candump::{CandumpReader, CandumpWriter};
pub use cannelloni::{UdpCanBus, decode_cannelloni, encode_cannelloni};
pub use config::{CanInputConfig, CanOutputConfig, SignalMapping, VehicleSignalMapping};
pub use dbc::{Dbc, DecodedMessage, EncodedFrame};
pub use output::{CanOutputEncoder, HEALTH_INPUT_NAMES, ObjectOnCan};
pub use socketcan_bus::SocketCanBus;
pub use vehicle::{CanInputCounters, VehicleSignalDecoder};
