use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse("manager.toml", text)
}

/// The smallest valid file, for errors to be added to.
const MINIMAL: &str = "[metrics]\nactive_conns = 1\n";

#[test]
fn the_documented_example_is_valid() {
    let config = parse(include_str!("../../examples/nd-manager.toml")).unwrap();
    assert_eq!(config.interval, DEFAULT_INTERVAL);
    assert_eq!(
        config.metrics,
        vec![
            MetricWeight {
                metric: Metric::NewConns,
                weight: 0.3
            },
            MetricWeight {
                metric: Metric::ActiveConns,
                weight: 0.2
            },
            MetricWeight {
                metric: Metric::Advisor("http".into()),
                weight: 0.3
            },
            MetricWeight {
                metric: Metric::Host("load".into()),
                weight: 0.2
            },
        ]
    );
    assert_eq!(
        config.advisors,
        vec![AdvisorConfig {
            name: "http".into(),
            kind: AdvisorKind::Http { path: "/".into() },
            port: Some(80),
            timeout: Duration::from_secs(2),
        }]
    );
    assert_eq!(config.host_metrics[0].stale_after, Duration::from_secs(15));
    let service = &config.services[0];
    assert_eq!(service.service.to_string(), "10.0.0.100:80");
    assert_eq!(service.scheduler, SchedulerKind::Wrr);
    assert_eq!(service.policy, Policy::Weighted);
    let capacities: Vec<f64> = service.servers.iter().map(|s| s.capacity).collect();
    assert_eq!(capacities, vec![1.0, 2.0, 1.0]);
}

#[test]
fn defaults_fill_what_is_left_out() {
    let config = parse(
        r#"
interval = "2s"
[metrics]
web = 0.5
cpu = 0.5
[[advisor]]
name = "web"
kind = "http"
[[advisor]]
name = "ping"
kind = "tcp"
timeout = "500ms"
[[host_metric]]
name = "cpu"
[[service]]
vip = "10.0.0.100"
port = 443
policy = "best"
server = [{ address = "10.0.0.11" }]
"#,
    )
    .unwrap();
    assert_eq!(config.smoothing, DEFAULT_SMOOTHING);
    assert_eq!(config.sensitivity, DEFAULT_SENSITIVITY);
    assert_eq!(config.max_weight, DEFAULT_MAX_WEIGHT);
    assert_eq!(config.agent_listen, "0.0.0.0:7050".parse().unwrap());
    assert_eq!(
        config.advisors[0].kind,
        AdvisorKind::Http { path: "/".into() }
    );
    assert_eq!(config.advisors[0].port, None);
    assert_eq!(config.advisors[0].timeout, Duration::from_secs(2));
    assert_eq!(config.advisors[1].timeout, Duration::from_millis(500));
    assert_eq!(config.advisors[0].port_for(config.services[0].service), 443);
    // Three intervals.
    assert_eq!(config.host_metrics[0].stale_after, Duration::from_secs(6));
    assert_eq!(config.services[0].policy, Policy::Best);
    assert_eq!(config.services[0].servers[0].capacity, 1.0);
}

#[test]
fn the_scheduler_defaults_to_wrr_and_chooses_the_default_policy() {
    let config = parse(
        "[metrics]\nactive_conns = 1\n\
         [[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         [[service]]\nvip = \"10.0.0.1\"\nport = 81\nscheduler = \"wlc\"\n\
         [[service]]\nvip = \"10.0.0.1\"\nport = 82\nscheduler = \"sed\"\n\
         [[service]]\nvip = \"10.0.0.1\"\nport = 83\nscheduler = \"wrr\"\n\
         policy = \"capacity\"\n",
    )
    .unwrap();
    let chosen: Vec<(SchedulerKind, Policy)> = config
        .services
        .iter()
        .map(|s| (s.scheduler, s.policy))
        .collect();
    assert_eq!(
        chosen,
        vec![
            (SchedulerKind::Wrr, Policy::Weighted),
            (SchedulerKind::Wlc, Policy::Capacity),
            (SchedulerKind::Sed, Policy::Capacity),
            (SchedulerKind::Wrr, Policy::Capacity),
        ]
    );
}

#[test]
fn the_default_advisor_timeout_never_exceeds_a_short_interval() {
    let config = parse(
        "interval = \"1s\"\n[metrics]\nweb = 1\n[[advisor]]\nname = \"web\"\nkind = \"tcp\"\n",
    )
    .unwrap();
    assert_eq!(config.advisors[0].timeout, Duration::from_secs(1));
}

/// `(file text, line, field, message)`: each must fail with exactly that.
const ERRORS: &[(&str, usize, &str, &str)] = &[
    (
        "interval = \"0s\"\n[metrics]\nactive_conns = 1\n",
        1,
        "interval",
        "must be longer than 0",
    ),
    (
        "interval = \"2days\"\n[metrics]\nactive_conns = 1\n",
        1,
        "interval",
        "must be at most 1day",
    ),
    (
        "interval = 5\n[metrics]\nactive_conns = 1\n",
        1,
        "interval",
        "invalid type: integer `5`, expected a string",
    ),
    (
        "interval = \"5 sec\"\nsmoothing = 1.0\n[metrics]\nactive_conns = 1\n",
        2,
        "smoothing",
        "1 is not from 0 to below 1",
    ),
    (
        "sensitivity = -0.1\n[metrics]\nactive_conns = 1\n",
        1,
        "sensitivity",
        "-0.1 is not a number of 0 or more",
    ),
    (
        "max_weight = 70000\n[metrics]\nactive_conns = 1\n",
        1,
        "max_weight",
        "70000 is not from 1 to 65535",
    ),
    (
        "agent_listen = \"0.0.0.0\"\n[metrics]\nactive_conns = 1\n",
        1,
        "agent_listen",
        "\"0.0.0.0\" is not an ADDRESS:PORT like 0.0.0.0:7050",
    ),
    (
        "intervall = \"5s\"\n[metrics]\nactive_conns = 1\n",
        1,
        "intervall",
        "unknown field `intervall`, expected one of `interval`, `smoothing`, `sensitivity`, \
         `max_weight`, `agent_listen`, `metrics`, `advisor`, `host_metric`, `service`",
    ),
    (
        "[metrics]\nnew_conns = 0.5\ncpu = 0.5\n",
        3,
        "metrics.cpu",
        "unknown metric \"cpu\"; known are new_conns, active_conns (advisors and host metrics \
         are declared in [[advisor]] and [[host_metric]])",
    ),
    (
        "\n[metrics]\nnew_conns = 0.5\nactive_conns = 0.4\n",
        2,
        "metrics",
        "the relative weights sum to 0.9; they must sum to 1",
    ),
    (
        "[metrics]\nnew_conns = 1.5\nactive_conns = -0.5\n",
        3,
        "metrics.active_conns",
        "-0.5 is not a relative weight (0 to 1)",
    ),
    (
        "[metrics]\nnew_conns = \"all\"\n",
        2,
        "new_conns",
        "invalid type: string \"all\", expected f64",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[advisor]]\nname = \"web\"\nkind = \"udp\"\n",
        5,
        "kind",
        "unknown variant `udp`, expected `http` or `tcp`",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[advisor]]\nname = \"web\"\nkind = \"tcp\"\n\
         [[advisor]]\nname = \"web\"\nkind = \"http\"\n",
        7,
        "advisor.name",
        "name \"web\" is listed twice (first on line 4)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[advisor]]\nname = \"load\"\nkind = \"tcp\"\n\
         [[host_metric]]\nname = \"load\"\n",
        7,
        "host_metric.name",
        "name \"load\" is listed twice (first on line 4)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[host_metric]]\nname = \"new_conns\"\n",
        4,
        "host_metric.name",
        "\"new_conns\" is the name of an input metric",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[advisor]]\nname = \"web\"\nkind = \"tcp\"\n\
         path = \"/\"\n",
        6,
        "advisor.path",
        "a tcp advisor sends no request, so it takes no path",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[advisor]]\nname = \"web\"\nkind = \"http\"\n\
         path = \"/a b\"\n",
        6,
        "advisor.path",
        "\"/a b\" is not a request path (it starts with '/' and has no spaces)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[advisor]]\nname = \"web\"\nkind = \"http\"\n\
         timeout = \"10s\"\n",
        6,
        "advisor.timeout",
        "10s is longer than the interval (2s); a probe must end before the next decision",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[advisor]]\nname = \"web\"\nkind = \"http\"\n\
         port = 0\n",
        6,
        "advisor.port",
        "0 is not a port (1 to 65535)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[host_metric]]\nname = \"mem\"\nstale_after = \"0ms\"\n",
        5,
        "host_metric.stale_after",
        "must be longer than 0",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.300\"\nport = 80\n",
        4,
        "service.vip",
        "\"10.0.0.300\" is not an IPv4 address",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"224.0.0.1\"\nport = 80\n",
        4,
        "service.vip",
        "224.0.0.1 is not a unicast address",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 65536\n",
        5,
        "service.port",
        "65536 is not a port (1 to 65535)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         [[service]]\nvip = \"10.0.0.1\"\nport = 80\n",
        7,
        "service.vip",
        "service 10.0.0.1:80 is listed twice (first on line 4)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         policy = \"fastest\"\n",
        6,
        "policy",
        "unknown variant `fastest`, expected one of `weighted`, `best`, `capacity`",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         scheduler = \"lc\"\n",
        6,
        "service.scheduler",
        "\"lc\" is not a scheduler; known are \"wrr\", \"wlc\", \"sed\"",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         scheduler = 3\n",
        6,
        "scheduler",
        "invalid type: integer `3`, expected a string",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         policy = \"weighted\"\nscheduler = \"wlc\"\n",
        6,
        "service.policy",
        "policy \"weighted\" follows load, which the wlc scheduler already does for every \
         connection; with wlc the weights are capacities (policy \"capacity\", the default)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         scheduler = \"sed\"\npolicy = \"best\"\n",
        7,
        "service.policy",
        "policy \"best\" follows load, which the sed scheduler already does for every \
         connection; with sed the weights are capacities (policy \"capacity\", the default)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         [[service.server]]\naddress = \"10.0.0.11\"\n[[service.server]]\n\
         address = \"10.0.0.11\"\n",
        9,
        "service.server.address",
        "server 10.0.0.11 of 10.0.0.1:80 is listed twice (first on line 7)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         [[service.server]]\naddress = \"10.0.0.11\"\ncapacity = 0\n",
        8,
        "service.server.capacity",
        "0 is not a capacity (a number above 0)",
    ),
    (
        "[metrics]\nactive_conns = 1\n[[service]]\nvip = \"10.0.0.1\"\nport = 80\n\
         [[service.server]]\naddres = \"10.0.0.11\"\n",
        7,
        "addres",
        "unknown field `addres`, expected `address` or `capacity`",
    ),
    (
        "[metrics]\nactive_conns = 1\nnew_conns = 0\n[[service\n",
        4,
        "",
        "unclosed array table, expected `]]`",
    ),
];

#[test]
fn errors_name_the_file_line_and_field() {
    for &(text, line, field, message) in ERRORS {
        let error = parse(text).expect_err(text);
        assert_eq!(error.file, "manager.toml", "{text}");
        assert_eq!(error.line, Some(line), "{text}\n{error}");
        assert_eq!(
            error.field.as_deref().unwrap_or(""),
            field,
            "{text}\n{error}"
        );
        assert_eq!(error.message, message, "{text}");
    }
}

#[test]
fn an_error_reads_file_line_field_message() {
    let error = parse("smoothing = 2\n[metrics]\nactive_conns = 1\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "manager.toml: line 1: field `smoothing`: 2 is not from 0 to below 1"
    );
}

#[test]
fn a_missing_metrics_table_is_named() {
    let error = parse("interval = \"5s\"\n").unwrap_err();
    assert_eq!(error.message, "missing field `metrics`");
}

#[test]
fn an_unreadable_file_is_named() {
    let error = Config::load(Path::new("/nonexistent/manager.toml")).unwrap_err();
    assert_eq!(error.file, "/nonexistent/manager.toml");
    assert!(error.message.starts_with("cannot read the file"), "{error}");
}

#[test]
fn weights_may_sum_to_one_within_rounding() {
    let text = "[metrics]\nnew_conns = 0.1\nactive_conns = 0.2\nweb = 0.7\n\
                [[advisor]]\nname = \"web\"\nkind = \"tcp\"\n";
    assert!(parse(text).is_ok());
    assert!(parse(MINIMAL).is_ok());
}

#[test]
fn managed_servers_span_every_service() {
    let config = parse(
        "[metrics]\nactive_conns = 1\n\
         [[service]]\nvip = \"10.0.0.1\"\nport = 80\nserver = [{ address = \"10.0.0.11\" }]\n\
         [[service]]\nvip = \"10.0.0.1\"\nport = 443\nserver = [{ address = \"10.0.0.11\" }, \
         { address = \"10.0.0.12\" }]\n",
    )
    .unwrap();
    assert_eq!(config.managed_servers().len(), 3);
    assert_eq!(config.server_addresses().len(), 2);
}
