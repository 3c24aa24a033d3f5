//! Where mails go: an SMTP server when `mail.smtp_url` is set, otherwise `.eml` files under
//! `<data_dir>/outbox-mail/`, so an instance without a mail server still "sends" every mail
//! (and a developer reads them with any mail program).

use super::message;
use crate::{config::Config, db::mails::DbMail, error::AppError};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor, message::Mailbox,
    transport::smtp::Error as SmtpError,
};
use std::{path::PathBuf, time::Duration};

/// The folder of the file sink, under `storage.data_dir`.
pub const OUTBOX_DIR: &str = "outbox-mail";

/// How long one SMTP command may take before the attempt counts as a (transient) failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What came of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted the mail (or the file is in place).
    Sent,
    /// Worth another try later: the server is unreachable, timed out, answered 4xx, or refused
    /// us for a reason that is not about the recipient (authentication, protocol).
    Retry(String),
    /// Refused for good: the server refused the recipient or the mail (550–554), or the row
    /// cannot make a mail. Never retried.
    Refused(String),
}

enum Sink {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
    Files(PathBuf),
}

/// The configured transport and sender. Build one per worker and reuse it: the SMTP transport
/// keeps a small pool of connections.
pub struct Mailer {
    sink: Sink,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, AppError> {
        let from = config
            .mail_from()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let sink = if config.mail.smtp_url.is_empty() {
            Sink::Files(config.storage.data_dir.join(OUTBOX_DIR))
        } else {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.mail.smtp_url)
                .map_err(|e| AppError::internal(format!("mail.smtp_url: {e}")))?
                .timeout(Some(SMTP_TIMEOUT))
                .build();
            Sink::Smtp(Box::new(transport))
        };
        Ok(Mailer { sink, from })
    }

    /// Whether mails are written to files rather than sent.
    pub fn is_file_sink(&self) -> bool {
        matches!(self.sink, Sink::Files(_))
    }

    /// One attempt at sending a queued row.
    pub async fn send(&self, mail: &DbMail) -> Outcome {
        let message = match message::build(mail, &self.from) {
            Ok(m) => m,
            Err(e) => return Outcome::Refused(e.to_string()),
        };
        match &self.sink {
            Sink::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Outcome::Sent,
                Err(e) => classify(&e),
            },
            Sink::Files(dir) => {
                let dir = dir.clone();
                let name = message::file_name(mail);
                let bytes = message.formatted();
                match tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
                    .await
                {
                    Ok(Ok(())) => Outcome::Sent,
                    Ok(Err(e)) => Outcome::Retry(format!("cannot write the mail file: {e}")),
                    Err(e) => Outcome::Retry(format!("cannot write the mail file: {e}")),
                }
            }
        }
    }
}

/// Sorts an SMTP failure. 550–554 refuse this recipient or this mail, whatever we do; other
/// 5xx (500–504 protocol, 530–538 authentication) say the server and we do not get along,
/// which an operator fixes — the mail waits for that rather than being lost.
fn classify(e: &SmtpError) -> Outcome {
    let text = e.to_string();
    if e.is_permanent()
        && let Some(code) = e.status()
        && (550..=554).contains(&u16::from(code))
    {
        return Outcome::Refused(text);
    }
    Outcome::Retry(text)
}

/// Writes `dir/name` so that the file is either absent or whole: a temporary file, synced,
/// then renamed over the final name (a mail written again replaces itself).
fn write_atomically(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    // The rename itself is durable once the folder is synced.
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("cc-mail-sink-{}", std::process::id()));
        write_atomically(&dir, "a.eml", b"first").expect("write");
        write_atomically(&dir, "a.eml", b"second").expect("write again");
        assert_eq!(std::fs::read(dir.join("a.eml")).expect("read"), b"second");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.eml"]);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
