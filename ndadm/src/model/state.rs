//! One-byte state values that a newer module may extend.

use std::fmt;

use nd_netlink_proto::attr::{AffinityQuiesced, ConnState, HaRole, ServerState};
use serde::{Serialize, Serializer};

/// A state enumeration of the protocol: its wire mapping and printed name.
pub trait WireName: Copy {
    /// The state of a wire value, `None` for values this tool does not know.
    fn from_wire(value: u8) -> Option<Self>;
    /// The wire value.
    fn to_wire(self) -> u8;
    /// The lower-case name tools print.
    fn name(self) -> &'static str;
}

impl WireName for ConnState {
    fn from_wire(value: u8) -> Option<Self> {
        ConnState::from_u8(value)
    }
    fn to_wire(self) -> u8 {
        self as u8
    }
    fn name(self) -> &'static str {
        ConnState::name(self)
    }
}

impl WireName for ServerState {
    fn from_wire(value: u8) -> Option<Self> {
        ServerState::from_u8(value)
    }
    fn to_wire(self) -> u8 {
        self as u8
    }
    fn name(self) -> &'static str {
        ServerState::name(self)
    }
}

impl WireName for HaRole {
    fn from_wire(value: u8) -> Option<Self> {
        HaRole::from_u8(value)
    }
    fn to_wire(self) -> u8 {
        self as u8
    }
    fn name(self) -> &'static str {
        HaRole::name(self)
    }
}

impl WireName for AffinityQuiesced {
    fn from_wire(value: u8) -> Option<Self> {
        AffinityQuiesced::from_u8(value)
    }
    fn to_wire(self) -> u8 {
        self as u8
    }
    fn name(self) -> &'static str {
        AffinityQuiesced::name(self)
    }
}

/// A state as received: a newer module may send values this tool has no name for, and those
/// stay visible as `unknown(N)` instead of failing the whole reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireState<T> {
    /// A value this tool knows.
    Known(T),
    /// A value from a newer protocol revision.
    Unknown(u8),
}

impl<T: WireName> WireState<T> {
    /// Classifies a wire value.
    pub fn from_wire(value: u8) -> Self {
        T::from_wire(value).map_or(WireState::Unknown(value), WireState::Known)
    }

    /// The known state, if it is one.
    pub fn known(self) -> Option<T> {
        match self {
            WireState::Known(state) => Some(state),
            WireState::Unknown(_) => None,
        }
    }

    /// Classifies a value the protocol carries in a `u32` attribute although its values fit a
    /// byte; anything above 255 is as unknown as 255 itself.
    pub fn from_wire_u32(value: u32) -> Self {
        Self::from_wire(u8::try_from(value).unwrap_or(u8::MAX))
    }
}

impl<T: WireName> fmt::Display for WireState<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireState::Known(state) => f.write_str(state.name()),
            WireState::Unknown(value) => write!(f, "unknown({value})"),
        }
    }
}

impl<T: WireName> Serialize for WireState<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_values_and_keeps_unknown_ones() {
        assert_eq!(
            WireState::<ConnState>::from_wire(2),
            WireState::Known(ConnState::Established)
        );
        assert_eq!(
            WireState::<ConnState>::from_wire(2).to_string(),
            "established"
        );
        let future = WireState::<ServerState>::from_wire(9);
        assert_eq!(future, WireState::Unknown(9));
        assert_eq!(future.known(), None);
        assert_eq!(future.to_string(), "unknown(9)");
    }

    #[test]
    fn reads_byte_values_carried_in_u32_attributes() {
        assert_eq!(
            WireState::<HaRole>::from_wire_u32(2),
            WireState::Known(HaRole::Standby)
        );
        assert_eq!(
            WireState::<AffinityQuiesced>::from_wire_u32(1).to_string(),
            "rebalance"
        );
        assert_eq!(
            WireState::<HaRole>::from_wire_u32(0x1_0001),
            WireState::Unknown(255)
        );
    }
}
