//! TCP state of a dispatched connection, tracked from the client-to-server direction only.
//!
//! In direct routing the balancer never sees the server's replies, so, like IPVS's
//! input-only table, the state follows the client's flags: SYN opens, the first plain ACK
//! establishes, FIN starts the close and RST ends it. A fresh SYN on a closing entry is a new
//! connection reusing the client port, and is scheduled again.

/// Connection states, in the order a well-behaved connection visits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    /// The client's SYN went to the server; the handshake is not finished.
    SynSent,
    /// The client acknowledged the server's SYN-ACK.
    Established,
    /// The client sent a FIN.
    FinWait,
    /// The client sent a RST.
    Closed,
}

/// The TCP flags the tracker looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
}

impl TcpFlags {
    /// Reads the flags byte of a TCP header (byte 13).
    pub fn from_header_byte(byte: u8) -> Self {
        TcpFlags {
            fin: byte & 0x01 != 0,
            syn: byte & 0x02 != 0,
            rst: byte & 0x04 != 0,
            ack: byte & 0x10 != 0,
        }
    }

    /// A connection request: SYN alone. SYN with ACK, FIN or RST opens nothing.
    pub fn is_connection_request(self) -> bool {
        self.syn && !self.ack && !self.fin && !self.rst
    }
}

/// What to do with a segment of a known connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Forward it to the entry's server; the entry moves to this state.
    Forward(TcpState),
    /// A new connection reuses the entry's addresses: schedule it afresh.
    Reschedule,
}

impl TcpState {
    /// The state a segment with `flags` moves a connection in this state to.
    pub fn step(self, flags: TcpFlags) -> Step {
        use TcpState::*;
        if flags.rst {
            return Step::Forward(Closed);
        }
        match self {
            FinWait | Closed if flags.is_connection_request() => Step::Reschedule,
            SynSent if flags.fin => Step::Forward(FinWait),
            SynSent if flags.ack && !flags.syn => Step::Forward(Established),
            Established if flags.fin => Step::Forward(FinWait),
            state => Step::Forward(state),
        }
    }

    /// Whether the connection counts as active (established) rather than inactive.
    pub fn is_active(self) -> bool {
        self == TcpState::Established
    }
}

/// How long an entry lives without traffic, per state, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// After a SYN.
    pub syn: u32,
    /// While established.
    pub established: u32,
    /// After the client's FIN.
    pub fin: u32,
    /// After a RST.
    pub close: u32,
}

impl Timeouts {
    /// The defaults, the same as IPVS's for the corresponding states.
    pub const DEFAULT: Timeouts = Timeouts {
        syn: 60,
        established: 15 * 60,
        fin: 2 * 60,
        close: 10,
    };

    /// The timeout of `state`.
    pub fn of(&self, state: TcpState) -> u32 {
        match state {
            TcpState::SynSent => self.syn,
            TcpState::Established => self.established,
            TcpState::FinWait => self.fin,
            TcpState::Closed => self.close,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TcpState::*;
    use super::*;

    const SYN: TcpFlags = TcpFlags {
        syn: true,
        ack: false,
        fin: false,
        rst: false,
    };
    const ACK: TcpFlags = TcpFlags {
        syn: false,
        ack: true,
        fin: false,
        rst: false,
    };
    const FIN_ACK: TcpFlags = TcpFlags {
        syn: false,
        ack: true,
        fin: true,
        rst: false,
    };
    const RST: TcpFlags = TcpFlags {
        syn: false,
        ack: false,
        fin: false,
        rst: true,
    };

    #[test]
    fn flags_are_read_from_the_header_byte() {
        assert_eq!(TcpFlags::from_header_byte(0x02), SYN);
        assert_eq!(TcpFlags::from_header_byte(0x10), ACK);
        assert_eq!(TcpFlags::from_header_byte(0x11), FIN_ACK);
        assert_eq!(TcpFlags::from_header_byte(0x04), RST);
        assert!(TcpFlags::from_header_byte(0x02).is_connection_request());
        for odd in [0x12, 0x03, 0x06, 0x00, 0x10] {
            assert!(!TcpFlags::from_header_byte(odd).is_connection_request());
        }
    }

    #[test]
    fn a_normal_connection_walks_through_every_state() {
        let mut state = SynSent;
        for (flags, expected) in [
            (SYN, SynSent),
            (ACK, Established),
            (ACK, Established),
            (FIN_ACK, FinWait),
            (ACK, FinWait),
        ] {
            assert_eq!(state.step(flags), Step::Forward(expected));
            state = expected;
        }
        assert!(Established.is_active());
        assert!(!SynSent.is_active() && !FinWait.is_active() && !Closed.is_active());
    }

    #[test]
    fn rst_closes_from_any_state() {
        for state in [SynSent, Established, FinWait, Closed] {
            assert_eq!(state.step(RST), Step::Forward(Closed));
        }
    }

    #[test]
    fn a_new_syn_on_a_closing_entry_is_a_new_connection() {
        assert_eq!(FinWait.step(SYN), Step::Reschedule);
        assert_eq!(Closed.step(SYN), Step::Reschedule);
        // A retransmitted SYN or a SYN on a live connection stays with its server.
        assert_eq!(SynSent.step(SYN), Step::Forward(SynSent));
        assert_eq!(Established.step(SYN), Step::Forward(Established));
    }

    #[test]
    fn a_syn_ack_from_the_client_does_not_establish() {
        let syn_ack = TcpFlags::from_header_byte(0x12);
        assert_eq!(SynSent.step(syn_ack), Step::Forward(SynSent));
    }

    #[test]
    fn timeouts_follow_the_state() {
        let t = Timeouts::DEFAULT;
        assert_eq!(t.of(SynSent), 60);
        assert_eq!(t.of(Established), 900);
        assert_eq!(t.of(FinWait), 120);
        assert_eq!(t.of(Closed), 10);
    }
}
