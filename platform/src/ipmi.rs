//! IPMI (Intelligent Platform Management Interface) messages to the BMC, and their framing
//! on the BT (block transfer) interface.
//!
//! BT request:  `[len, netfn << 2 | lun, seq, cmd, data…]`
//! BT response: `[len, netfn << 2 | lun, seq, cmd, completion code, data…]`
//! where `len` counts the bytes after itself and a response's netfn is the request's + 1.

use core::fmt;

/// Network functions (command groups).
pub mod netfn {
    /// Chassis: power control.
    pub const CHASSIS: u8 = 0x00;
    /// Application: device identity, watchdog.
    pub const APP: u8 = 0x06;
}

/// Command codes.
pub mod cmd {
    /// Chassis Control (netfn chassis).
    pub const CHASSIS_CONTROL: u8 = 0x02;
    /// Get Device ID (netfn application).
    pub const GET_DEVICE_ID: u8 = 0x01;
}

/// Chassis Control actions (IPMI 2.0 §28.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ChassisControl {
    /// Power down the system.
    PowerDown = 0,
    /// Power up the system.
    PowerUp = 1,
    /// Power down, then up again.
    PowerCycle = 2,
    /// Hard reset (reboot without powering down).
    HardReset = 3,
}

/// Largest BT message oxiboot sends or accepts, length byte included.
pub const BT_MAX_MESSAGE: usize = 64;

/// An IPMI request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// Network function.
    pub netfn: u8,
    /// Command.
    pub cmd: u8,
    /// Request data.
    pub data: &'a [u8],
}

impl Request<'static> {
    /// Chassis Control with the given action.
    pub fn chassis_control(action: ChassisControl) -> Self {
        const DATA: [[u8; 1]; 4] = [[0], [1], [2], [3]];
        Request { netfn: netfn::CHASSIS, cmd: cmd::CHASSIS_CONTROL, data: &DATA[action as usize] }
    }

    /// Get Device ID.
    pub fn get_device_id() -> Self {
        Request { netfn: netfn::APP, cmd: cmd::GET_DEVICE_ID, data: &[] }
    }
}

/// A malformed or unexpected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpmiError {
    /// The request does not fit a BT message.
    RequestTooLong(usize),
    /// The response is shorter than its header or its length byte says.
    Truncated,
    /// The length byte does not match the bytes received.
    LengthMismatch {
        /// Length byte value.
        declared: u8,
        /// Bytes received after it.
        received: usize,
    },
    /// The response belongs to another request (netfn, sequence or command differ).
    Mismatch,
    /// The BMC answered with a non-zero completion code.
    Completion(u8),
}

impl fmt::Display for IpmiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RequestTooLong(n) => write!(f, "IPMI request of {n} bytes is too long"),
            Self::Truncated => write!(f, "IPMI response truncated"),
            Self::LengthMismatch { declared, received } => {
                write!(f, "IPMI response length {declared} but {received} bytes received")
            }
            Self::Mismatch => write!(f, "IPMI response does not match the request"),
            Self::Completion(c) => write!(f, "BMC completion code {c:#04x}"),
        }
    }
}

/// Frames `req` with sequence number `seq` into `out`; returns the message length.
pub fn encode_bt_request(
    req: &Request<'_>,
    seq: u8,
    out: &mut [u8; BT_MAX_MESSAGE],
) -> Result<usize, IpmiError> {
    let total = 4 + req.data.len();
    if total > BT_MAX_MESSAGE {
        return Err(IpmiError::RequestTooLong(total));
    }
    out[0] = (total - 1) as u8;
    out[1] = req.netfn << 2;
    out[2] = seq;
    out[3] = req.cmd;
    out[4..total].copy_from_slice(req.data);
    Ok(total)
}

/// A BMC response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    data: [u8; BT_MAX_MESSAGE],
    len: usize,
}

impl Response {
    /// Response data after the completion code.
    pub fn data(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// Checks a framed BT response (`bytes` = length byte and everything after it) against the
/// request it answers, and returns its data. A non-zero completion code is an error.
pub fn decode_bt_response(bytes: &[u8], req: &Request<'_>, seq: u8) -> Result<Response, IpmiError> {
    let (&declared, rest) = bytes.split_first().ok_or(IpmiError::Truncated)?;
    if rest.len() != declared as usize {
        return Err(IpmiError::LengthMismatch { declared, received: rest.len() });
    }
    if rest.len() < 4 {
        return Err(IpmiError::Truncated);
    }
    if rest[0] >> 2 != req.netfn + 1 || rest[1] != seq || rest[2] != req.cmd {
        return Err(IpmiError::Mismatch);
    }
    if rest[3] != 0 {
        return Err(IpmiError::Completion(rest[3]));
    }
    let payload = &rest[4..];
    let mut data = [0; BT_MAX_MESSAGE];
    data[..payload.len()].copy_from_slice(payload);
    Ok(Response { data, len: payload.len() })
}

/// What Get Device ID tells about the BMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceId {
    /// Device ID.
    pub device_id: u8,
    /// Device revision (low 4 bits).
    pub revision: u8,
    /// Firmware revision: major, minor (minor is BCD).
    pub firmware: (u8, u8),
    /// IPMI version, BCD (0x20 = 2.0).
    pub ipmi_version: u8,
    /// IANA manufacturer id.
    pub manufacturer: u32,
    /// Product id.
    pub product: u16,
}

impl DeviceId {
    /// Parses the data of a Get Device ID response.
    pub fn parse(data: &[u8]) -> Result<Self, IpmiError> {
        if data.len() < 11 {
            return Err(IpmiError::Truncated);
        }
        Ok(Self {
            device_id: data[0],
            revision: data[1] & 0x0f,
            firmware: (data[2] & 0x7f, data[3]),
            ipmi_version: data[4],
            manufacturer: u32::from_le_bytes([data[6], data[7], data[8], 0]),
            product: u16::from_le_bytes([data[9], data[10]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chassis_power_down_frame() {
        let mut buf = [0; BT_MAX_MESSAGE];
        let n = encode_bt_request(&Request::chassis_control(ChassisControl::PowerDown), 7, &mut buf).unwrap();
        assert_eq!(&buf[..n], &[4, 0x00, 7, 0x02, 0]);
        let n = encode_bt_request(&Request::chassis_control(ChassisControl::HardReset), 8, &mut buf).unwrap();
        assert_eq!(&buf[..n], &[4, 0x00, 8, 0x02, 3]);
    }

    #[test]
    fn get_device_id_frame() {
        let mut buf = [0; BT_MAX_MESSAGE];
        let n = encode_bt_request(&Request::get_device_id(), 1, &mut buf).unwrap();
        assert_eq!(&buf[..n], &[3, 0x18, 1, 0x01]);
    }

    #[test]
    fn too_long_request() {
        let data = [0u8; 61];
        let req = Request { netfn: 0, cmd: 0, data: &data };
        let mut buf = [0; BT_MAX_MESSAGE];
        assert_eq!(encode_bt_request(&req, 0, &mut buf), Err(IpmiError::RequestTooLong(65)));
    }

    #[test]
    fn response_checks() {
        let req = Request::get_device_id();
        let ok = [7, 0x1c, 5, 0x01, 0x00, 0x20, 0x81, 0x02];
        assert_eq!(decode_bt_response(&ok, &req, 5).unwrap().data(), &[0x20, 0x81, 0x02]);
        assert_eq!(
            decode_bt_response(&ok[..7], &req, 5),
            Err(IpmiError::LengthMismatch { declared: 7, received: 6 })
        );
        assert_eq!(decode_bt_response(&ok, &req, 6), Err(IpmiError::Mismatch));
        let bad_cc = [4, 0x1c, 5, 0x01, 0xc1];
        assert_eq!(decode_bt_response(&bad_cc, &req, 5), Err(IpmiError::Completion(0xc1)));
        assert_eq!(decode_bt_response(&[], &req, 5), Err(IpmiError::Truncated));
        assert_eq!(decode_bt_response(&[2, 0x1c, 5], &req, 5), Err(IpmiError::Truncated));
    }

    #[test]
    fn device_id_parse() {
        let data = [0x20, 0x81, 0x02, 0x15, 0x02, 0xbf, 0x4f, 0x1a, 0x00, 0x34, 0x12];
        let id = DeviceId::parse(&data).unwrap();
        assert_eq!(id.device_id, 0x20);
        assert_eq!(id.revision, 1);
        assert_eq!(id.firmware, (2, 0x15));
        assert_eq!(id.ipmi_version, 0x02);
        assert_eq!(id.manufacturer, 0x1a4f);
        assert_eq!(id.product, 0x1234);
        assert_eq!(DeviceId::parse(&data[..10]), Err(IpmiError::Truncated));
    }
}
