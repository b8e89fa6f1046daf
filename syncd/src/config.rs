//! The daemon's configuration file: its TOML model, defaults and validation.
//!
//! ```toml
//! node = "lb-a"                    # this node's name (default: the host name)
//! listen = "192.168.0.1:7060"      # where the peer's daemon connects (default 0.0.0.0:7060)
//! peer = "192.168.0.2:7060"        # the peer's daemon
//! role_poll = "200ms"              # how often the Executor's role is read
//! status_interval = "500ms"        # how often the link's status is reported to it
//! weights_interval = "1s"          # how often the active's weights are compared and sent
//! keepalive = "1s"                 # a frame at least this often on an idle link
//! dead_after = "3s"                # a link silent this long is closed
//! connect_timeout = "2s"           # for a dial and its hello exchange
//! retry_min = "200ms"              # first delay before dialling again, doubling ...
//! retry_max = "5s"                 # ... up to this
//! ack_timeout = "10s"              # a link whose peer acknowledges nothing this long is closed
//! queue = 1024                     # batches between the Executor and the link
//! window = 256                     # record frames in flight, unacknowledged
//! ```
//!
//! `syncd/examples/nd-syncd.toml` documents every field. SIGHUP reloads the timings; `node`,
//! `listen`, `peer` and `queue` take effect on restart.

use std::net::{SocketAddr, SocketAddrV4};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use nd_manager::config::{show_duration, ConfigError, DurationValue, Source};
use serde::Deserialize;
use toml::Spanned;

use crate::frame::check_node_name;

/// Where the daemon listens unless configured.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:7060";
/// The longest duration a file may set: far beyond any sensible timing.
const MAX_DURATION: Duration = Duration::from_secs(3600);

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// This node's name; of the two, the lower name dials.
    pub node: String,
    /// The address the peer's daemon connects to.
    pub listen: SocketAddr,
    /// The peer's daemon (IPv4: the Executor reports the peer as an IPv4 address).
    pub peer: SocketAddrV4,
    /// What a reload may change.
    pub timings: Timings,
    /// Batches of records the queue between the Executor and the link holds.
    pub queue: usize,
}

/// The settings a reload changes in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timings {
    /// How often the Executor's role is read.
    pub role_poll: Duration,
    /// How often the link's status is reported to the Executor.
    pub status_interval: Duration,
    /// How often the active's weights are compared with what was sent.
    pub weights_interval: Duration,
    /// The longest a link stays without a frame from this side.
    pub keepalive: Duration,
    /// A link silent this long from the peer's side is closed.
    pub dead_after: Duration,
    /// How long a dial and the hello exchange may take.
    pub connect_timeout: Duration,
    /// The first delay before dialling again.
    pub retry_min: Duration,
    /// The longest delay before dialling again.
    pub retry_max: Duration,
    /// A link whose oldest unacknowledged frame is this old is closed.
    pub ack_timeout: Duration,
    /// `Records` frames in flight before sending waits for acknowledgements.
    pub window: usize,
}

impl Default for Timings {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Timings {
            role_poll: ms(200),
            status_interval: ms(500),
            weights_interval: ms(1000),
            keepalive: ms(1000),
            dead_after: ms(3000),
            connect_timeout: ms(2000),
            retry_min: ms(200),
            retry_max: ms(5000),
            ack_timeout: ms(10_000),
            window: 256,
        }
    }
}

/// The batches the queue holds unless configured.
pub const DEFAULT_QUEUE: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    node: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
    peer: Spanned<String>,
    role_poll: Option<Spanned<DurationValue>>,
    status_interval: Option<Spanned<DurationValue>>,
    weights_interval: Option<Spanned<DurationValue>>,
    keepalive: Option<Spanned<DurationValue>>,
    dead_after: Option<Spanned<DurationValue>>,
    connect_timeout: Option<Spanned<DurationValue>>,
    retry_min: Option<Spanned<DurationValue>>,
    retry_max: Option<Spanned<DurationValue>>,
    ack_timeout: Option<Spanned<DurationValue>>,
    queue: Option<Spanned<i64>>,
    window: Option<Spanned<i64>>,
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = Source::read(path)?;
        Config::parse(&path.display().to_string(), &text)
    }

    /// Validates `text`, the contents of the file named `file` in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let source = Source { file, text };
        let raw: RawConfig = source.deserialize()?;
        raw.validate(&source, host_name)
    }

    /// The settings that differ from `self` and that only a restart applies.
    pub fn needs_restart(&self, new: &Config) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.node != new.node {
            fields.push("node");
        }
        if self.listen != new.listen {
            fields.push("listen");
        }
        if self.peer != new.peer {
            fields.push("peer");
        }
        if self.queue != new.queue {
            fields.push("queue");
        }
        fields
    }
}

/// The kernel's host name, the default node name.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string())
}

fn duration(value: &DurationValue) -> Result<Duration, String> {
    if value.0.is_zero() {
        Err("must be longer than 0".into())
    } else if value.0 > MAX_DURATION {
        Err(format!("must be at most {}", show_duration(MAX_DURATION)))
    } else {
        Ok(value.0)
    }
}

fn count(value: i64, max: usize) -> Result<usize, String> {
    match usize::try_from(value) {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{value} is not from 1 to {max}")),
    }
}

impl RawConfig {
    fn validate(
        self,
        source: &Source<'_>,
        default_node: impl FnOnce() -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let at =
            |span: Range<usize>, field: &str, message: String| source.error(span, field, message);
        let node = match &self.node {
            Some(node) => {
                check_node_name(node.get_ref())
                    .map_err(|e| at(node.span(), "node", e.to_string()))?;
                node.get_ref().clone()
            }
            None => {
                let name = default_node().unwrap_or_default();
                check_node_name(&name).map_err(|e| ConfigError {
                    file: source.file.to_string(),
                    line: None,
                    field: Some("node".into()),
                    message: format!("no node name given, and the host name will not do: {e}"),
                })?;
                name
            }
        };
        let listen = match &self.listen {
            Some(listen) => listen.get_ref().parse().map_err(|_| {
                at(
                    listen.span(),
                    "listen",
                    format!(
                        "\"{}\" is not an ADDRESS:PORT like {DEFAULT_LISTEN}",
                        listen.get_ref()
                    ),
                )
            })?,
            None => DEFAULT_LISTEN.parse().expect("a valid default"),
        };
        let peer: SocketAddrV4 = self.peer.get_ref().parse().map_err(|_| {
            at(
                self.peer.span(),
                "peer",
                format!(
                    "\"{}\" is not an IPv4 ADDRESS:PORT like 192.168.0.2:7060",
                    self.peer.get_ref()
                ),
            )
        })?;
        if peer.ip().is_unspecified() || peer.ip().is_multicast() || peer.port() == 0 {
            return Err(at(
                self.peer.span(),
                "peer",
                format!("{peer} is not a daemon's address"),
            ));
        }

        let defaults = Timings::default();
        let timing =
            |field: &str, value: &Option<Spanned<DurationValue>>, default: Duration| match value {
                Some(value) => duration(value.get_ref()).map_err(|e| at(value.span(), field, e)),
                None => Ok(default),
            };
        let timings = Timings {
            role_poll: timing("role_poll", &self.role_poll, defaults.role_poll)?,
            status_interval: timing(
                "status_interval",
                &self.status_interval,
                defaults.status_interval,
            )?,
            weights_interval: timing(
                "weights_interval",
                &self.weights_interval,
                defaults.weights_interval,
            )?,
            keepalive: timing("keepalive", &self.keepalive, defaults.keepalive)?,
            dead_after: timing("dead_after", &self.dead_after, defaults.dead_after)?,
            connect_timeout: timing(
                "connect_timeout",
                &self.connect_timeout,
                defaults.connect_timeout,
            )?,
            retry_min: timing("retry_min", &self.retry_min, defaults.retry_min)?,
            retry_max: timing("retry_max", &self.retry_max, defaults.retry_max)?,
            ack_timeout: timing("ack_timeout", &self.ack_timeout, defaults.ack_timeout)?,
            window: match &self.window {
                Some(window) => {
                    count(*window.get_ref(), 4096).map_err(|e| at(window.span(), "window", e))?
                }
                None => defaults.window,
            },
        };
        if timings.dead_after <= timings.keepalive {
            let span = self.dead_after.as_ref().or(self.keepalive.as_ref());
            let message = format!(
                "dead_after ({}) must be longer than keepalive ({}), or an idle link dies",
                show_duration(timings.dead_after),
                show_duration(timings.keepalive)
            );
            return Err(match span {
                Some(span) => at(span.span(), "dead_after", message),
                None => unreachable!("the defaults are consistent"),
            });
        }
        if timings.retry_max < timings.retry_min {
            let span = self.retry_max.as_ref().or(self.retry_min.as_ref());
            let message = format!(
                "retry_max ({}) is shorter than retry_min ({})",
                show_duration(timings.retry_max),
                show_duration(timings.retry_min)
            );
            return Err(match span {
                Some(span) => at(span.span(), "retry_max", message),
                None => unreachable!("the defaults are consistent"),
            });
        }
        let queue = match &self.queue {
            Some(queue) => {
                count(*queue.get_ref(), 65_536).map_err(|e| at(queue.span(), "queue", e))?
            }
            None => DEFAULT_QUEUE,
        };
        Ok(Config {
            node,
            listen,
            peer,
            timings,
            queue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let source = Source {
            file: "nd-syncd.toml",
            text,
        };
        let raw: RawConfig = source.deserialize()?;
        raw.validate(&source, || Some("host-1".into()))
    }

    #[test]
    fn a_peer_alone_takes_every_default() {
        let config = parse("peer = \"192.168.0.2:7060\"\n").unwrap();
        assert_eq!(
            config,
            Config {
                node: "host-1".into(),
                listen: DEFAULT_LISTEN.parse().unwrap(),
                peer: "192.168.0.2:7060".parse().unwrap(),
                timings: Timings::default(),
                queue: DEFAULT_QUEUE,
            }
        );
        assert_eq!(config.timings.role_poll, Duration::from_millis(200));
    }

    #[test]
    fn reads_every_field() {
        let config = parse(
            r#"
node = "lb-a"
listen = "127.0.0.1:7061"
peer = "127.0.0.2:7062"
role_poll = "100ms"
status_interval = "250ms"
weights_interval = "2s"
keepalive = "500ms"
dead_after = "2s"
connect_timeout = "1s"
retry_min = "50ms"
retry_max = "1s"
ack_timeout = "4s"
queue = 16
window = 8
"#,
        )
        .unwrap();
        let ms = Duration::from_millis;
        assert_eq!(config.node, "lb-a");
        assert_eq!(config.listen, "127.0.0.1:7061".parse().unwrap());
        assert_eq!(config.queue, 16);
        assert_eq!(
            config.timings,
            Timings {
                role_poll: ms(100),
                status_interval: ms(250),
                weights_interval: ms(2000),
                keepalive: ms(500),
                dead_after: ms(2000),
                connect_timeout: ms(1000),
                retry_min: ms(50),
                retry_max: ms(1000),
                ack_timeout: ms(4000),
                window: 8,
            }
        );
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let error = parse("peer = \"192.168.0.2:7060\"\nnode = \"lb a\"\n").unwrap_err();
        assert_eq!(
            (error.line, error.field.as_deref()),
            (Some(2), Some("node"))
        );
        let error = parse("peer = \"lb-b:7060\"\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "nd-syncd.toml: line 1: field `peer`: \"lb-b:7060\" is not an IPv4 ADDRESS:PORT \
             like 192.168.0.2:7060"
        );
        let error = parse("peer = \"192.168.0.2:7060\"\n\nrole_poll = \"0s\"\n").unwrap_err();
        assert_eq!(
            (error.line, error.field.as_deref(), error.message.as_str()),
            (Some(3), Some("role_poll"), "must be longer than 0")
        );
        let error = parse("peer = \"192.168.0.2:7060\"\nkeepalive = \"5s\"\n").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("dead_after"));
        assert!(error.message.contains("longer than keepalive"), "{error}");
        let error = parse("peer = \"192.168.0.2:7060\"\nretry_min = \"10s\"\n").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("retry_max"));
        let error = parse("peer = \"192.168.0.2:7060\"\nwindow = 0\n").unwrap_err();
        assert_eq!(error.message, "0 is not from 1 to 4096");
        let error = parse("listen = \"0.0.0.0:7060\"\n").unwrap_err();
        assert!(error.message.contains("missing field `peer`"), "{error}");
        let error = parse("peer = \"192.168.0.2:7060\"\npear = 1\n").unwrap_err();
        assert!(error.message.contains("unknown field `pear`"), "{error}");
        let error = parse("peer = \"0.0.0.0:7060\"\n").unwrap_err();
        assert!(error.message.contains("not a daemon's address"), "{error}");
    }

    #[test]
    fn a_bad_host_name_needs_a_node_name() {
        let source = Source {
            file: "nd-syncd.toml",
            text: "peer = \"192.168.0.2:7060\"\n",
        };
        let raw: RawConfig = source.deserialize().unwrap();
        let error = raw
            .validate(&source, || Some("my host".into()))
            .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("node"));
        assert!(error.message.starts_with("no node name given"), "{error}");
    }

    #[test]
    fn tells_which_changes_need_a_restart() {
        let old = parse("peer = \"192.168.0.2:7060\"\n").unwrap();
        let new = parse("peer = \"192.168.0.3:7060\"\nkeepalive = \"2s\"\ndead_after = \"6s\"\n")
            .unwrap();
        assert_eq!(old.needs_restart(&new), ["peer"]);
        assert!(old.needs_restart(&old).is_empty());
    }
}
