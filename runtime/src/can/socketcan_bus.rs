//! Linux SocketCAN (the `socketcan` crate): the truck's real CAN interface.
//!
//! A raw `AF_CAN` socket in CAN FD mode on one interface, so that both classic and FD frames
//! arrive; frames are stamped with the injected clock when read. On a kernel without CAN
//! support, opening fails with "Address family not supported by protocol" (EAFNOSUPPORT).

use std::sync::Arc;
use std::time::Duration;

use pitsense_types::{CanFrame, Clock};
use socketcan::{CanAnyFrame, CanFdSocket, EmbeddedFrame, ExtendedId, Frame, Id, Socket, StandardId};

use super::bus::{CanBus, CanError, check_frame};

/// A SocketCAN interface (`can0`, `vcan0`) as a [`CanBus`].
#[derive(Debug)]
pub struct SocketCanBus {
    socket: CanFdSocket,
    interface: String,
    clock: Arc<dyn Clock>,
}

impl SocketCanBus {
    /// Opens a raw CAN FD socket on `interface`.
    ///
    /// # Errors
    /// [`CanError::Io`] naming the interface: no such interface (ENODEV), no CAN in the
    /// kernel (EAFNOSUPPORT), or no permission.
    pub fn open(interface: &str, clock: Arc<dyn Clock>) -> Result<Self, CanError> {
        let socket = CanFdSocket::open(interface)
            .map_err(|source| CanError::Io { what: format!("socketcan:{interface}: open"), source })?;
        Ok(Self { socket, interface: interface.to_owned(), clock })
    }
}

impl CanBus for SocketCanBus {
    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, CanError> {
        let received = match self.socket.read_frame_timeout(timeout) {
            Ok(frame) => frame,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(None);
            }
            Err(source) => {
                return Err(CanError::Io { what: format!("socketcan:{}: receive", self.interface), source });
            }
        };
        let stamp_ns = self.clock.now_ns();
        let (extended, can_id, data) = match &received {
            CanAnyFrame::Normal(frame) => (frame.is_extended(), frame.raw_id(), frame.data()),
            CanAnyFrame::Fd(frame) => (frame.is_extended(), frame.raw_id(), frame.data()),
            CanAnyFrame::Remote(_) | CanAnyFrame::Error(_) => return Ok(None),
        };
        Ok(Some(CanFrame { stamp_ns, bus: self.interface.clone(), can_id, extended, data: data.to_vec() }))
    }

    fn send(&mut self, frame: &CanFrame) -> Result<(), CanError> {
        let invalid = |reason: String| CanError::InvalidFrame {
            bus: format!("socketcan:{}", self.interface),
            can_id: frame.can_id,
            reason,
        };
        check_frame(frame).map_err(invalid)?;
        let id = if frame.extended {
            ExtendedId::new(frame.can_id).map(Id::Extended)
        } else {
            u16::try_from(frame.can_id).ok().and_then(StandardId::new).map(Id::Standard)
        }
        .ok_or_else(|| invalid("id out of range".into()))?;
        // Up to 8 bytes: a classic frame; longer: CAN FD.
        let any = CanAnyFrame::new(id, &frame.data).ok_or_else(|| invalid("payload rejected".into()))?;
        self.socket
            .write_frame(&any)
            .map_err(|source| CanError::Io { what: format!("socketcan:{}: send", self.interface), source })
    }

    fn name(&self) -> &str {
        &self.interface
    }
}
