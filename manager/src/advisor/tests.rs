use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::*;

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
const TIMEOUT: Duration = Duration::from_secs(5);

fn http(path: &str) -> AdvisorKind {
    AdvisorKind::Http {
        path: path.to_string(),
    }
}

/// A one-connection HTTP server answering `answer`; the request it read comes back
/// through the receiver.
async fn http_server(answer: &'static [u8]) -> (u16, oneshot::Receiver<String>) {
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = oneshot::channel();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 512];
        while !request.ends_with(b"\r\n\r\n") {
            let read = stream.read(&mut chunk).await.unwrap();
            assert!(read > 0, "the request ended early");
            request.extend_from_slice(&chunk[..read]);
        }
        stream.write_all(answer).await.unwrap();
        let _ = sender.send(String::from_utf8(request).unwrap());
    });
    (port, receiver)
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A server that accepts connections and never says anything.
async fn silent_server() -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            held.push(stream);
        }
    });
    (port, task)
}

#[tokio::test]
async fn http_up_sends_the_documented_request_and_times_the_answer() {
    let (port, request) = http_server(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    let verdict = probe(&http("/health?full=1"), LOCALHOST, port, TIMEOUT).await;
    assert!(matches!(verdict, Verdict::Up { .. }), "{verdict}");
    assert!(verdict.response_ms().unwrap() >= 0.0);
    assert_eq!(
        request.await.unwrap(),
        "GET /health?full=1 HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: nd-manager\r\n\r\n"
    );
}

#[tokio::test]
async fn http_redirects_count_as_up() {
    let (port, _) = http_server(b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n").await;
    let verdict = probe(&http("/"), LOCALHOST, port, TIMEOUT).await;
    assert!(!verdict.is_down(), "{verdict}");
}

#[tokio::test]
async fn http_server_errors_are_down() {
    let (port, _) = http_server(b"HTTP/1.0 500 Internal Server Error\r\n\r\n").await;
    let verdict = probe(&http("/"), LOCALHOST, port, TIMEOUT).await;
    assert_eq!(
        verdict,
        Verdict::Down {
            reason: "HTTP status 500".into()
        }
    );
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_down() {
    let (port, _) = http_server(b"SSH-2.0-OpenSSH_9.2\r\n").await;
    let verdict = probe(&http("/"), LOCALHOST, port, TIMEOUT).await;
    let Verdict::Down { reason } = verdict else {
        panic!("{verdict}")
    };
    assert!(reason.starts_with("not an HTTP status line"), "{reason}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_down_after_the_timeout() {
    let (port, server) = silent_server().await;
    let timeout = Duration::from_millis(300);
    let verdict = probe(&http("/"), LOCALHOST, port, timeout).await;
    assert_eq!(
        verdict,
        Verdict::Down {
            reason: "no answer within 300ms".into()
        }
    );
    server.abort();
}

#[tokio::test]
async fn a_closed_port_is_down_as_refused() {
    let port = closed_port().await;
    for kind in [http("/"), AdvisorKind::Tcp] {
        let verdict = probe(&kind, LOCALHOST, port, TIMEOUT).await;
        assert_eq!(
            verdict,
            Verdict::Down {
                reason: "connection refused".into()
            },
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn tcp_up_when_the_connection_is_accepted() {
    let (port, server) = silent_server().await;
    let verdict = probe(&AdvisorKind::Tcp, LOCALHOST, port, TIMEOUT).await;
    assert!(matches!(verdict, Verdict::Up { .. }), "{verdict}");
    server.abort();
}

#[tokio::test]
async fn tcp_down_when_the_connection_is_not_established_in_time() {
    // A listener that never accepts, with its queue filled: further SYNs go unanswered.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((LOCALHOST, 0))).unwrap();
    let listener = socket.listen(0).unwrap();
    let port = listener.local_addr().unwrap().port();
    let timeout = Duration::from_millis(300);
    // Each probe that gets through stays in the queue, unaccepted, until the queue is full.
    let mut verdict = probe(&AdvisorKind::Tcp, LOCALHOST, port, timeout).await;
    for _ in 0..16 {
        if verdict.is_down() {
            break;
        }
        verdict = probe(&AdvisorKind::Tcp, LOCALHOST, port, timeout).await;
    }
    assert_eq!(
        verdict,
        Verdict::Down {
            reason: "no answer within 300ms".into()
        }
    );
}

#[test]
fn reads_status_lines() {
    assert_eq!(http::status_code(b"HTTP/1.1 204 No Content\r\n"), Ok(204));
    assert_eq!(http::status_code(b"HTTP/1.0 404\n"), Ok(404));
    assert!(http::status_code(b"").is_err());
    assert!(http::status_code(b"HTTP/1.1 200 OK").is_err());
    assert!(http::status_code(b"HTTP/1.1 2000 OK\r\n").is_err());
    assert!(http::status_code(b"ICY 200 OK\r\n").is_err());
}

fn config(text: &str) -> Config {
    Config::parse("m.toml", text).unwrap()
}

#[tokio::test]
async fn probe_all_probes_each_server_port_once_per_advisor() {
    let (up_port, _) = http_server(b"HTTP/1.0 200 OK\r\n\r\n").await;
    let down_port = closed_port().await;
    let config = config(&format!(
        r#"
        [metrics]
        web = 1
        [[advisor]]
        name = "web"
        kind = "http"
        [[advisor]]
        name = "alive"
        kind = "tcp"
        port = {down_port}
        [[service]]
        vip = "10.0.0.100"
        port = {up_port}
        server = [{{ address = "127.0.0.1" }}]
        [[service]]
        vip = "10.0.0.101"
        port = {up_port}
        server = [{{ address = "127.0.0.1" }}]
        "#
    ));
    assert_eq!(probes(&config).len(), 2);
    let results = probe_all(&config).await;
    assert!(!results.get("web", LOCALHOST, up_port).unwrap().is_down());
    assert!(results
        .get("alive", LOCALHOST, down_port)
        .unwrap()
        .is_down());
    assert_eq!(results.get("web", LOCALHOST, down_port), None);
}

#[test]
fn changes_are_servers_going_down_or_coming_back() {
    let probe = |advisor: &str| Probe {
        advisor: advisor.into(),
        server: LOCALHOST,
        port: 80,
    };
    let up = Verdict::Up {
        response: Duration::from_millis(3),
    };
    let down = |reason: &str| Verdict::Down {
        reason: reason.into(),
    };
    let before = AdvisorResults::new(HashMap::from([
        (probe("a"), up.clone()),
        (probe("b"), down("refused")),
        (probe("c"), down("refused")),
    ]));
    let after = AdvisorResults::new(HashMap::from([
        (probe("a"), down("HTTP status 503")),
        (probe("b"), up.clone()),
        (probe("c"), down("timed out")),
        (probe("d"), up.clone()),
        (probe("e"), down("refused")),
    ]));
    let changes: Vec<(String, bool)> = after
        .changes_since(&before)
        .into_iter()
        .map(|(probe, verdict)| (probe.advisor.clone(), verdict.is_down()))
        .collect();
    assert_eq!(
        changes,
        vec![("a".into(), true), ("b".into(), false), ("e".into(), true)]
    );
}
