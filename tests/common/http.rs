//! Plain HTTP/1.1 on loopback for the server tests: a small client for the
//! REST API, and an ATS stand-in that receives webhooks (failing the first
//! deliveries of an event type on purpose) and keeps what it got.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A response: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The status line and headers.
    pub head: String,
    pub body: Value,
    pub text: String,
    /// The body as sent.
    pub bytes: Vec<u8>,
}

impl Response {
    /// A header's value (the name is matched without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One request with `Connection: close`; `key` as `Authorization: Bearer`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Response {
    request_with(addr, method, path, key, body, &[])
}

/// [`request`] with extra headers.
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Response {
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    request_raw(addr, method, path, key, body, headers)
}

/// [`request`] with a body of any type: `(content type, body)`.
pub fn request_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
    headers: &[(&str, &str)],
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let payload = body.as_ref().map(|(_, b)| b.clone()).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(k) = key {
        head.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    if let Some((content_type, _)) = &body {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&payload).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let bytes = raw.get(split + 4..).unwrap_or_default().to_vec();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // The server answers Connection: close requests without chunking.
    Response {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        head,
        text,
        bytes,
    }
}

/// One webhook delivery as the ATS stand-in received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub event: String,
    pub delivery: String,
    pub signature: String,
    pub body: String,
    /// The status the stand-in answered.
    pub answered: u16,
}

/// An ATS stand-in on loopback: answers 503 to the first `fail_first`
/// deliveries of `fail_event`, 200 to everything else.
pub struct Ats {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Ats {
    pub fn start(fail_event: &str, fail_first: usize) -> Ats {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the ATS stand-in");
        let addr = listener.local_addr().unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let fail_event = fail_event.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut failed_so_far = log
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|r| r.event == fail_event && r.answered != 200)
                    .count();
                if let Some(mut r) = read_delivery(&stream) {
                    r.answered = if r.event == fail_event && failed_so_far < fail_first {
                        failed_so_far += 1;
                        503
                    } else {
                        200
                    };
                    let _ = (&stream).write_all(
                        format!(
                            "HTTP/1.1 {} x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            r.answered
                        )
                        .as_bytes(),
                    );
                    log.lock().unwrap().push(r);
                }
            }
        });
        Ats { addr, received }
    }

    /// Deliveries received so far.
    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn read_delivery(stream: &TcpStream) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut length = 0usize;
    let (mut event, mut delivery, mut signature) = (String::new(), String::new(), String::new());
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        let value = value.trim().to_owned();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok()?,
            "voxhire-event" => event = value,
            "voxhire-delivery" => delivery = value,
            "voxhire-signature" => signature = value,
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        at: Instant::now(),
        event,
        delivery,
        signature,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: 0,
    })
}
