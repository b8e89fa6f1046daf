//! The agent's configuration file.
//!
//! ```toml
//! manager = "10.0.0.1:7050"     # where reports go
//! period = "1s"                 # default 1s
//! source = "10.0.0.11"          # optional: the address reports are sent from
//!
//! [[metric]]
//! name = "load"
//! command = "cut -d' ' -f1 /proc/loadavg"   # /bin/sh -c; the first number printed
//! timeout = "2s"                # default: the period
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::agent_report::{check_metric_name, MAX_METRICS};
use crate::config::{
    checked, positive_duration, required, unique_name, ConfigError, DurationValue, Source,
};

/// How often the agent reports, unless configured.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(1);

/// A validated agent configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentConfig {
    /// The Manager's `agent_listen` address.
    pub manager: SocketAddr,
    /// Time between two reports.
    pub period: Duration,
    /// The address reports are sent from, which must be the server's address in the
    /// Manager's configuration; `None` lets routing choose.
    pub source: Option<IpAddr>,
    /// The metrics, in file order.
    pub metrics: Vec<AgentMetric>,
}

/// A metric and the command that measures it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentMetric {
    /// The name the Manager knows it by.
    pub name: String,
    /// A shell command whose output's first number is the value.
    pub command: String,
    /// How long the command may run before it is killed.
    pub timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgentConfig {
    manager: Spanned<String>,
    period: Option<Spanned<DurationValue>>,
    source: Option<Spanned<String>>,
    #[serde(default)]
    metric: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: Spanned<String>,
    command: Spanned<String>,
    timeout: Option<Spanned<DurationValue>>,
}

impl AgentConfig {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = Source::read(path)?;
        AgentConfig::parse(&path.display().to_string(), &text)
    }

    /// Validates `text`, the contents of the file named `file` in errors.
    pub fn parse(file: &str, text: &str) -> Result<AgentConfig, ConfigError> {
        let source = Source { file, text };
        let raw: RawAgentConfig = source.deserialize()?;
        let manager = raw.manager.get_ref().parse().map_err(|_| {
            source.error(
                raw.manager.span(),
                "manager",
                format!(
                    "\"{}\" is not an ADDRESS:PORT like 10.0.0.1:7050",
                    raw.manager.get_ref()
                ),
            )
        })?;
        let period = checked(
            &source,
            "period",
            raw.period.as_ref(),
            DEFAULT_PERIOD,
            positive_duration,
        )?;
        let source_address = checked(&source, "source", raw.source.as_ref(), None, |text| {
            text.parse()
                .map(Some)
                .map_err(|_| format!("\"{text}\" is not an IP address"))
        })?;
        if raw.metric.len() > MAX_METRICS {
            return Err(source.error(
                raw.metric[MAX_METRICS].name.span(),
                "metric",
                format!("more than {MAX_METRICS} metrics, the most one report carries"),
            ));
        }
        let mut names = BTreeMap::new();
        let mut metrics = Vec::new();
        for metric in &raw.metric {
            let name = unique_name(&source, &mut names, "metric.name", &metric.name, |name| {
                check_metric_name(name).map(|()| name.clone())
            })?;
            let command = required(&source, "metric.command", &metric.command, |c| {
                if c.trim().is_empty() {
                    Err("the command is empty".to_string())
                } else {
                    Ok(c.clone())
                }
            })?;
            let timeout = checked(
                &source,
                "metric.timeout",
                metric.timeout.as_ref(),
                period,
                positive_duration,
            )?;
            metrics.push(AgentMetric {
                name,
                command,
                timeout,
            });
        }
        Ok(AgentConfig {
            manager,
            period,
            source: source_address,
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AgentConfig, ConfigError> {
        AgentConfig::parse("agent.toml", text)
    }

    #[test]
    fn reads_a_full_configuration_with_defaults() {
        let config = parse(
            r#"
manager = "10.0.0.1:7050"
source = "10.0.0.11"
[[metric]]
name = "load"
command = "cat /proc/loadavg"
[[metric]]
name = "mem"
command = "free"
timeout = "300ms"
"#,
        )
        .unwrap();
        assert_eq!(config.manager, "10.0.0.1:7050".parse().unwrap());
        assert_eq!(config.period, DEFAULT_PERIOD);
        assert_eq!(config.source, Some("10.0.0.11".parse().unwrap()));
        assert_eq!(config.metrics[0].timeout, DEFAULT_PERIOD);
        assert_eq!(config.metrics[1].timeout, Duration::from_millis(300));
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let cases = [
            (
                "manager = \"10.0.0.1\"\n",
                "agent.toml: line 1: field `manager`: \"10.0.0.1\" is not an ADDRESS:PORT like \
                 10.0.0.1:7050",
            ),
            (
                "manager = \"10.0.0.1:7050\"\nperiod = \"0s\"\n",
                "agent.toml: line 2: field `period`: must be longer than 0",
            ),
            (
                "manager = \"10.0.0.1:7050\"\n[[metric]]\nname = \"load\"\ncommand = \"a\"\n\
                 [[metric]]\nname = \"load\"\ncommand = \"b\"\n",
                "agent.toml: line 6: field `metric.name`: name \"load\" is listed twice (first on \
                 line 3)",
            ),
            (
                "manager = \"10.0.0.1:7050\"\n[[metric]]\nname = \"load avg\"\ncommand = \"a\"\n",
                "agent.toml: line 3: field `metric.name`: \"load avg\" is not a metric name (1 to \
                 32 letters, digits, '_', '-' or '.')",
            ),
            (
                "manager = \"10.0.0.1:7050\"\n[[metric]]\nname = \"load\"\ncommand = \" \"\n",
                "agent.toml: line 4: field `metric.command`: the command is empty",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn a_missing_manager_is_named() {
        let error = parse("period = \"1s\"\n").unwrap_err();
        assert_eq!(error.message, "missing field `manager`");
    }
}
