//! The requests of the load-sharing evaluation: `GET /work/N HTTP/1.0` asks an emulated
//! server (`ndtest ps-serve`) for N work units of service, where a unit is what serving a
//! 1 KB object costs (the simulator's unit). Any other path, such as the Manager's HTTP
//! advisor's `GET /`, asks for [`OTHER_PATH_WORK`], so that an advisor's probe waits in the
//! server's queue like a small request and its timing reflects the load, as in the paper.

/// The path prefix of a work request.
pub const WORK_PREFIX: &str = "/work/";
/// The work of a request for any other path.
pub const OTHER_PATH_WORK: f64 = 1.0;
/// The most work one request may ask for.
pub const MAX_WORK: f64 = 1e9;
/// The least, so that a request rounded to the path's three decimals still asks for some.
pub const MIN_WORK: f64 = 0.001;

/// The request for `units` of work, to the nearest thousandth of a unit.
pub fn request(units: f64) -> Vec<u8> {
    let units = units.clamp(MIN_WORK, MAX_WORK);
    format!("GET {WORK_PREFIX}{units:.3} HTTP/1.0\r\nHost: ps\r\n\r\n").into_bytes()
}

/// The work a request head asks for, from its request line; why it cannot be served if the
/// line is not `METHOD TARGET HTTP/1.x` or asks for work out of range.
pub fn work_of(head: &[u8]) -> Result<f64, &'static str> {
    let line_end = head
        .windows(2)
        .position(|pair| pair == b"\r\n")
        .ok_or("no request line")?;
    let line = std::str::from_utf8(&head[..line_end]).map_err(|_| "request line not text")?;
    let mut words = line.split(' ');
    let (Some(_method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err("not METHOD TARGET VERSION");
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err("not METHOD TARGET VERSION");
    }
    let Some(units) = target.strip_prefix(WORK_PREFIX) else {
        return Ok(OTHER_PATH_WORK);
    };
    match units.parse::<f64>() {
        Ok(work) if work.is_finite() && (MIN_WORK..=MAX_WORK).contains(&work) => Ok(work),
        _ => Err("work out of range"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_asks_for_its_work() {
        for units in [0.5, 1.0, 22.6, 1499.999] {
            let asked = work_of(&request(units)).unwrap();
            assert!((asked - units).abs() < 5e-4, "{units} -> {asked}");
        }
        assert_eq!(work_of(&request(0.0)).unwrap(), MIN_WORK);
        assert_eq!(work_of(&request(f64::INFINITY)).unwrap(), MAX_WORK);
    }

    #[test]
    fn other_paths_cost_one_unit() {
        let advisor = b"GET / HTTP/1.0\r\nHost: 10.0.0.11\r\nUser-Agent: nd-manager\r\n\r\n";
        assert_eq!(work_of(advisor), Ok(OTHER_PATH_WORK));
        assert_eq!(work_of(b"HEAD /index.html HTTP/1.1\r\n\r\n"), Ok(1.0));
    }

    #[test]
    fn malformed_or_out_of_range_requests_are_refused() {
        for head in [
            &b"GET /work/ HTTP/1.0\r\n\r\n"[..],
            b"GET /work/-3 HTTP/1.0\r\n\r\n",
            b"GET /work/nan HTTP/1.0\r\n\r\n",
            b"GET /work/1e12 HTTP/1.0\r\n\r\n",
            b"GET /work/5\r\n\r\n",
            b"GET work/5 HTTP/1.0\r\n\r\n",
            b"GET /work/5 SPDY/3\r\n\r\n",
            b"GET /work/5 HTTP/1.0 extra\r\n\r\n",
            b"no line end",
            b"\xff\xfe /work/5 HTTP/1.0\r\n\r\n",
        ] {
            assert!(
                work_of(head).is_err(),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }
}
