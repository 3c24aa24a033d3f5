//! A real SMTP server for mail tests: a tokio listener on 127.0.0.1 that speaks enough of
//! RFC 5321 for a client (greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-unstuffing,
//! RSET, NOOP, QUIT), refuses the recipients it is told to with 550, and records every
//! message it accepts. Tests wait for messages through [`SmtpServer::next_message`], never by
//! sleeping.
#![allow(dead_code)]

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The accepted envelope recipients (`RCPT TO`).
    pub rcpt_to: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, without the final `.` line.
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("a parseable message")
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    refused: Mutex<HashSet<String>>,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    arrivals: tokio::sync::Mutex<mpsc::UnboundedReceiver<Received>>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// A server on a free port.
    pub async fn start() -> SmtpServer {
        Self::start_on("127.0.0.1:0".parse().expect("address")).await
    }

    /// A server on `addr` (a port a test saw closed before, to play a server coming back).
    pub async fn start_on(addr: SocketAddr) -> SmtpServer {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP server");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let task = {
            let shared = shared.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(session(stream, shared.clone(), tx.clone()));
                }
            })
        };
        SmtpServer {
            addr,
            shared,
            arrivals: tokio::sync::Mutex::new(rx),
            task,
        }
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, no TLS, no authentication.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// From now on, `RCPT TO:<address>` is answered with a permanent 550.
    pub fn refuse(&self, address: &str) {
        self.shared
            .refused
            .lock()
            .expect("lock")
            .insert(address.to_ascii_lowercase());
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// The next accepted message, in order of arrival. The timeout only keeps a broken test
    /// from hanging forever; a passing test never comes near it.
    pub async fn next_message(&self) -> Received {
        tokio::time::timeout(Duration::from_secs(120), self.arrivals.lock().await.recv())
            .await
            .expect("no mail reached the SMTP server")
            .expect("the SMTP server stopped")
    }

    /// Stops accepting connections and frees the port.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    write.write_all(text.as_bytes()).await.is_ok()
}

/// The address inside `MAIL FROM:<…>` / `RCPT TO:<…>` (parameters after it ignored).
fn path_of(argument: &str) -> String {
    let start = argument.find('<').map(|i| i + 1).unwrap_or(0);
    let end = argument[start..]
        .find('>')
        .map(|i| start + i)
        .unwrap_or(argument.len());
    argument[start..end].trim().to_string()
}

async fn session(
    stream: TcpStream,
    shared: Arc<Shared>,
    arrivals: mpsc::UnboundedSender<Received>,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if !reply(&mut write, "220 smtp.test ESMTP test server\r\n").await {
        return;
    }
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, argument) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
            None => (text.to_ascii_uppercase(), ""),
        };
        let ok = match verb.as_str() {
            "EHLO" => {
                reply(
                    &mut write,
                    "250-smtp.test greets you\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                )
                .await
            }
            "HELO" => reply(&mut write, "250 smtp.test\r\n").await,
            "MAIL" => {
                mail_from = Some(path_of(argument));
                rcpt_to.clear();
                reply(&mut write, "250 2.1.0 Ok\r\n").await
            }
            "RCPT" => {
                let to = path_of(argument);
                if mail_from.is_none() {
                    reply(&mut write, "503 5.5.1 Error: need MAIL command\r\n").await
                } else if shared
                    .refused
                    .lock()
                    .expect("lock")
                    .contains(&to.to_ascii_lowercase())
                {
                    let answer = format!(
                        "550 5.1.1 <{to}>: Recipient address rejected: User unknown in local recipient table\r\n"
                    );
                    reply(&mut write, &answer).await
                } else {
                    rcpt_to.push(to);
                    reply(&mut write, "250 2.1.5 Ok\r\n").await
                }
            }
            "DATA" => {
                if rcpt_to.is_empty() {
                    reply(&mut write, "554 5.5.1 Error: no valid recipients\r\n").await
                } else {
                    if !reply(&mut write, "354 End data with <CR><LF>.<CR><LF>\r\n").await {
                        return;
                    }
                    let mut data = Vec::new();
                    loop {
                        line.clear();
                        match lines.read_until(b'\n', &mut line).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        if line == b".\r\n" || line == b".\n" {
                            break;
                        }
                        // Dot-unstuffing (RFC 5321 §4.5.2).
                        let content = if line.starts_with(b".") {
                            &line[1..]
                        } else {
                            &line[..]
                        };
                        data.extend_from_slice(content);
                    }
                    let message = Received {
                        mail_from: mail_from.take().unwrap_or_default(),
                        rcpt_to: std::mem::take(&mut rcpt_to),
                        data,
                    };
                    shared.received.lock().expect("lock").push(message.clone());
                    let _ = arrivals.send(message);
                    reply(&mut write, "250 2.0.0 Ok: queued\r\n").await
                }
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                reply(&mut write, "250 2.0.0 Ok\r\n").await
            }
            "NOOP" => reply(&mut write, "250 2.0.0 Ok\r\n").await,
            "QUIT" => {
                let _ = reply(&mut write, "221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => reply(&mut write, "502 5.5.2 Error: command not recognized\r\n").await,
        };
        if !ok {
            return;
        }
    }
}

#[tokio::test]
async fn dot_unstuffing_and_refusals() {
    let server = SmtpServer::start().await;
    server.refuse("nobody@example.org");
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut expect = async |send: &str, code: &str| {
        if !send.is_empty() {
            write.write_all(send.as_bytes()).await.expect("write");
        }
        let line = lines.next_line().await.expect("read").expect("a line");
        assert!(line.starts_with(code), "{send:?} → {line}");
        line
    };
    expect("", "220").await;
    expect("HELO client.test\r\n", "250").await;
    expect("MAIL FROM:<a@example.org>\r\n", "250").await;
    expect("RCPT TO:<nobody@example.org>\r\n", "550").await;
    expect("DATA\r\n", "554").await;
    expect("RCPT TO:<b@example.org> NOTIFY=NEVER\r\n", "250").await;
    expect("NOOP\r\n", "250").await;
    expect("DATA\r\n", "354").await;
    expect("Subject: x\r\n\r\n..leading dot\r\nline\r\n.\r\n", "250").await;
    expect("RSET\r\n", "250").await;
    expect("QUIT\r\n", "221").await;
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "a@example.org");
    assert_eq!(got[0].rcpt_to, ["b@example.org"]);
    assert_eq!(got[0].data, b"Subject: x\r\n\r\n.leading dot\r\nline\r\n");
}
