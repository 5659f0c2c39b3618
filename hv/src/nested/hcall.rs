//! Hypercall numbers, return codes, flag bits and capability bits of the PAPR nested API v2
//! (the `H_GUEST_*` hypercalls an L1 — the hypervisor running inside an LPAR, e.g. Linux KVM —
//! makes to us, the L0, to run its L2 guests), and [`Rejection`], the error every check in
//! this module returns.
//!
//! Flag words use IBM bit numbering: "bit 0" is the most significant bit, `1 << 63`.

/// `H_GUEST_GET_CAPABILITIES(flags)`: r4 = capability bitmap 1.
pub const H_GUEST_GET_CAPABILITIES: u64 = 0x460;
/// `H_GUEST_SET_CAPABILITIES(flags, bitmap 1)`.
pub const H_GUEST_SET_CAPABILITIES: u64 = 0x464;
/// `H_GUEST_CREATE(flags, continue token)`: r4 = guest id (or continue token when busy).
pub const H_GUEST_CREATE: u64 = 0x470;
/// `H_GUEST_CREATE_VCPU(flags, guest id, vCPU id)`.
pub const H_GUEST_CREATE_VCPU: u64 = 0x474;
/// `H_GUEST_GET_STATE(flags, guest id, vCPU id, buffer address, buffer size)`.
pub const H_GUEST_GET_STATE: u64 = 0x478;
/// `H_GUEST_SET_STATE(flags, guest id, vCPU id, buffer address, buffer size)`.
pub const H_GUEST_SET_STATE: u64 = 0x47C;
/// `H_GUEST_RUN_VCPU(flags, guest id, vCPU id)`: r4 = exit reason.
pub const H_GUEST_RUN_VCPU: u64 = 0x480;
/// `H_GUEST_COPY_MEMORY`: its arguments are not documented; not offered (capability bit clear).
pub const H_GUEST_COPY_MEMORY: u64 = 0x484;
/// `H_GUEST_DELETE(flags, guest id)`.
pub const H_GUEST_DELETE: u64 = 0x488;

/// Every `H_GUEST_*` opcode, for dispatch tables and tests.
pub const ALL_OPCODES: [u64; 9] = [
    H_GUEST_GET_CAPABILITIES,
    H_GUEST_SET_CAPABILITIES,
    H_GUEST_CREATE,
    H_GUEST_CREATE_VCPU,
    H_GUEST_GET_STATE,
    H_GUEST_SET_STATE,
    H_GUEST_RUN_VCPU,
    H_GUEST_COPY_MEMORY,
    H_GUEST_DELETE,
];

/// A PAPR hypercall return code, as placed in r3.
pub type HcallStatus = i64;

/// The call succeeded.
pub const H_SUCCESS: HcallStatus = 0;
/// Temporarily busy; retry (Linux retries CREATE, CREATE_VCPU, GET/SET_STATE, DELETE).
pub const H_BUSY: HcallStatus = 1;
/// The resource is not available (QEMU's answer to RUN_VCPU without a partition table).
pub const H_NOT_AVAILABLE: HcallStatus = 3;
/// Busy for about a millisecond (first of the `H_LONG_BUSY_ORDER_*` codes 9900…9905).
pub const H_LONG_BUSY_ORDER_1_MSEC: HcallStatus = 9900;
/// Hardware error.
pub const H_HARDWARE: HcallStatus = -1;
/// The hypercall is not implemented (what an LPAR without nested virtualization gets).
pub const H_FUNCTION: HcallStatus = -2;
/// A parameter (here: a flags word) is invalid.
pub const H_PARAMETER: HcallStatus = -4;
/// The caller is not allowed to make this call.
pub const H_AUTHORITY: HcallStatus = -10;
/// Not enough hypervisor memory (or a configured limit) to create a guest or vCPU.
pub const H_NOT_ENOUGH_RESOURCES: HcallStatus = -44;
/// The operation was aborted.
pub const H_ABORTED: HcallStatus = -54;
/// Parameter 2 (r5) is invalid: guest id, capability bitmap, continue token.
pub const H_P2: HcallStatus = -55;
/// Parameter 3 (r6) is invalid: vCPU id.
pub const H_P3: HcallStatus = -56;
/// Parameter 4 (r7) is invalid: guest state buffer address.
pub const H_P4: HcallStatus = -57;
/// Parameter 5 (r8) is invalid: guest state buffer size.
pub const H_P5: HcallStatus = -58;
/// The call is not valid in the current state (e.g. a second SET_CAPABILITIES).
pub const H_STATE: HcallStatus = -75;
/// The vCPU id is already in use.
pub const H_IN_USE: HcallStatus = -77;
/// A guest state buffer element has an unknown id or one not allowed in this call.
pub const H_INVALID_ELEMENT_ID: HcallStatus = -79;
/// A guest state buffer element's length is not the size of its id.
pub const H_INVALID_ELEMENT_SIZE: HcallStatus = -80;
/// A guest state buffer element's value is not acceptable.
pub const H_INVALID_ELEMENT_VALUE: HcallStatus = -81;
/// RUN_VCPU without a registered input buffer (GSID 0x0C00).
pub const H_INPUT_BUFFER_NOT_DEFINED: HcallStatus = -82;
/// The RUN_VCPU input buffer is too small for its header or the elements it declares.
pub const H_INPUT_BUFFER_TOO_SMALL: HcallStatus = -83;
/// RUN_VCPU without a registered output buffer (GSID 0x0C01).
pub const H_OUTPUT_BUFFER_NOT_DEFINED: HcallStatus = -84;
/// The RUN_VCPU output buffer cannot hold the elements of this exit.
pub const H_OUTPUT_BUFFER_TOO_SMALL: HcallStatus = -85;
/// RUN_VCPU before the L2's partition-scoped page table (GSID 0x0005) was set.
pub const H_PARTITION_PAGE_TABLE_NOT_DEFINED: HcallStatus = -86;
/// The vCPU state is owned by the L1 (ownership transfer; not implemented here).
pub const H_GUEST_VCPU_STATE_NOT_HV_OWNED: HcallStatus = -87;
/// A flag bit is not supported (start of the range −256…−511; QEMU uses −256 alone).
pub const H_UNSUPPORTED_FLAG: HcallStatus = -256;

/// GET/SET_STATE flag bit 0: guest-wide state instead of one vCPU's.
pub const STATE_FLAG_GUEST_WIDE: u64 = 1 << 63;
/// GET_STATE flag bit 1: host-wide statistics (guest and vCPU ids are ignored). The original
/// document gave this bit to "take ownership of vCPU state"; current Linux and QEMU use it for
/// host-wide state, and so do we.
pub const GET_STATE_FLAG_HOST_WIDE: u64 = 1 << 62;
/// SET_STATE flag bit 1: return ownership of vCPU state. Part of the ownership protocol, which
/// Linux never uses and we do not implement (rejected with `H_PARAMETER`).
pub const SET_STATE_FLAG_RETURN_OWNERSHIP: u64 = 1 << 62;
/// RUN_VCPU flag bit 0: generate an external interrupt in the L2 (not implemented).
pub const RUN_FLAG_EXTERNAL_INTERRUPT: u64 = 1 << 63;
/// RUN_VCPU flag bit 1: generate a privileged doorbell in the L2 (not implemented).
pub const RUN_FLAG_PRIVILEGED_DOORBELL: u64 = 1 << 62;
/// RUN_VCPU flag bit 2: send the L2 vCPU a system reset (not implemented).
pub const RUN_FLAG_SYSTEM_RESET: u64 = 1 << 61;
/// DELETE flag bit 0: delete every guest of this L1 (kexec/kdump reset); guest id ignored.
pub const DELETE_FLAG_ALL_GUESTS: u64 = 1 << 63;

/// Capability bit 0: H_GUEST_COPY_MEMORY is available.
pub const CAPABILITY_COPY_MEMORY: u64 = 1 << 63;
/// Capability bit 1: L2s may run in POWER9 (ISA 3.00) mode.
pub const CAPABILITY_POWER9: u64 = 1 << 62;
/// Capability bit 2: L2s may run in POWER10 (ISA 3.1) mode.
pub const CAPABILITY_POWER10: u64 = 1 << 61;
/// Capability bit 3: L2s may run in POWER11 mode.
pub const CAPABILITY_POWER11: u64 = 1 << 60;
/// Capability bit 63: a second capability bitmap follows (none is defined).
pub const CAPABILITY_BITMAP2: u64 = 1;
/// What this POWER9 L0 offers: POWER9 mode only.
pub const SUPPORTED_CAPABILITIES: u64 = CAPABILITY_POWER9;

/// The continue token of a first H_GUEST_CREATE call (−1).
pub const CREATE_FIRST_CALL_TOKEN: u64 = u64::MAX;

/// A failed hypercall: the status for r3 and, where the call defines them, r4 and r5.
///
/// For `H_INVALID_ELEMENT_*` r4 is the element's index (GET/SET_STATE) or byte offset
/// (the RUN_VCPU input buffer); for SET_CAPABILITIES' `H_P2` r4 is the number of invalid
/// bitmaps and r5 the index of the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Return code for r3 (never `H_SUCCESS`).
    pub status: HcallStatus,
    /// Value for r4, if the call defines one for this status.
    pub r4: Option<u64>,
    /// Value for r5, if the call defines one for this status.
    pub r5: Option<u64>,
}

impl Rejection {
    /// A rejection with only a status.
    pub const fn new(status: HcallStatus) -> Self {
        Self { status, r4: None, r5: None }
    }

    /// A rejection with a status and an r4 value.
    pub const fn with_r4(status: HcallStatus, r4: u64) -> Self {
        Self { status, r4: Some(r4), r5: None }
    }
}

/// IBM bit number (0 = most significant) of the most significant set bit of `word`, if any.
pub const fn first_ibm_bit(word: u64) -> Option<u32> {
    if word == 0 {
        None
    } else {
        Some(word.leading_zeros())
    }
}
