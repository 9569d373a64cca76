//! An in-process TCP proxy in front of a plain-HTTP registry that injects faults into
//! the requests that contain a trigger string: cut the response after N bytes, answer
//! with a canned response (503, 429 + `Retry-After`), drop the connection, or remove
//! the `Range` header (a server that ignores ranges). Each fault fires a set number of
//! times; every request head that passes is recorded.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::OrDie;

#[derive(Debug, Clone)]
pub enum Fault {
    /// Let `after` bytes of the response through, then cut both connections.
    CutResponse { after: usize },
    /// Answer with this raw HTTP response (the proxy adds `Connection: close`).
    Respond {
        status_line: String,
        headers: Vec<String>,
    },
    /// Close the connection without answering.
    Drop,
    /// Forward the request without its `Range` header.
    StripRange,
}

struct Rule {
    trigger: String,
    fault: Fault,
    remaining: usize,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<Rule>>,
    heads: Mutex<Vec<String>>,
    fired: Mutex<Vec<String>>,
}

pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    pub fn start(upstream_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").or_die("bind");
        let port = listener.local_addr().or_die("addr").port();
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, st) = (shared.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
                    continue;
                };
                let sh = sh.clone();
                std::thread::spawn(move || serve(client, upstream, sh));
            }
        });
        FaultProxy { port, shared, stop }
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Adds a fault for the next `times` requests whose head contains `trigger`.
    pub fn add(&self, trigger: &str, fault: Fault, times: usize) {
        self.shared.rules.lock().or_die("lock").push(Rule {
            trigger: trigger.to_string(),
            fault,
            remaining: times,
        });
    }

    /// Request heads seen so far (request line and headers, lower-cased header names
    /// kept as sent).
    pub fn heads(&self) -> Vec<String> {
        self.shared.heads.lock().or_die("lock").clone()
    }

    /// Descriptions of the faults that fired.
    pub fn fired(&self) -> Vec<String> {
        self.shared.fired.lock().or_die("lock").clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn is_request_head(text: &str) -> bool {
    ["GET ", "HEAD ", "PUT ", "POST ", "PATCH ", "DELETE "]
        .iter()
        .any(|m| text.starts_with(m))
}

fn serve(client: TcpStream, upstream: TcpStream, sh: Arc<Shared>) {
    // Bytes still allowed through before a cut; `usize::MAX` = no cut armed.
    let budget = Arc::new(Mutex::new(usize::MAX));
    let (mut c_read, mut u_write) = (
        client.try_clone().or_die("clone"),
        upstream.try_clone().or_die("clone"),
    );
    let (mut u_read, mut c_write) = (upstream, client);
    let b2 = budget.clone();
    let down = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match u_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut b = b2.lock().or_die("lock");
            let allowed = n.min(*b);
            if *b != usize::MAX {
                *b -= allowed;
            }
            let stop = *b == 0;
            drop(b);
            if c_write.write_all(&buf[..allowed]).is_err() {
                break;
            }
            if stop {
                break;
            }
        }
        let _ = c_write.shutdown(Shutdown::Both);
        let _ = u_read.shutdown(Shutdown::Both);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match c_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut data = buf[..n].to_vec();
        let text = String::from_utf8_lossy(&data).into_owned();
        if is_request_head(&text) {
            let head = text.split("\r\n\r\n").next().unwrap_or("").to_string();
            sh.heads.lock().or_die("lock").push(head.clone());
            let fault = {
                let mut rules = sh.rules.lock().or_die("lock");
                rules
                    .iter_mut()
                    .find(|r| r.remaining > 0 && head.contains(&r.trigger))
                    .map(|r| {
                        r.remaining -= 1;
                        r.fault.clone()
                    })
            };
            if let Some(f) = fault {
                sh.fired
                    .lock()
                    .or_die("lock")
                    .push(format!("{f:?} on {}", head.lines().next().unwrap_or("")));
                match f {
                    Fault::CutResponse { after } => *budget.lock().or_die("lock") = after,
                    Fault::Respond {
                        status_line,
                        headers,
                    } => {
                        let mut r = format!("{status_line}\r\n");
                        for h in headers {
                            r.push_str(&h);
                            r.push_str("\r\n");
                        }
                        r.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
                        let _ = c_read.write_all(r.as_bytes());
                        let _ = c_read.shutdown(Shutdown::Both);
                        let _ = u_write.shutdown(Shutdown::Both);
                        break;
                    }
                    Fault::Drop => {
                        let _ = c_read.shutdown(Shutdown::Both);
                        let _ = u_write.shutdown(Shutdown::Both);
                        break;
                    }
                    Fault::StripRange => {
                        let kept: Vec<&str> = text
                            .split("\r\n")
                            .filter(|l| !l.to_ascii_lowercase().starts_with("range:"))
                            .collect();
                        data = kept.join("\r\n").into_bytes();
                    }
                }
            }
        }
        if u_write.write_all(&data).is_err() {
            break;
        }
    }
    let _ = u_write.shutdown(Shutdown::Write);
    let _ = down.join();
}
