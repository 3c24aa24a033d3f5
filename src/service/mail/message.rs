//! A queued row turned into the mail that leaves: multipart/alternative (plain text first, then
//! HTML), with the headers mail programs and receiving servers act on.

use crate::db::mails::DbMail;
use lettre::{
    Message,
    message::{
        Mailbox, MultiPart,
        header::{HeaderName, HeaderValue},
    },
};

const CONTENT_LANGUAGE: HeaderName = HeaderName::new_from_ascii_str("Content-Language");
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");
const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

/// Why a row cannot become a mail. It never will, so the row fails at once.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid recipient address {0:?}: {1}")]
    Recipient(String, String),
    #[error("cannot build the message: {0}")]
    Message(String),
}

/// Builds the mail of a queued row.
///
/// Everything comes from the row, so a mail sent again (after a crash between the server's
/// answer and the update) is the same mail: same `Message-ID`, and `Date` is when it was
/// queued — the moment the platform decided to send it (RFC 5322 §3.6.1).
pub fn build(mail: &DbMail, from: &Mailbox) -> Result<Message, BuildError> {
    let to: Mailbox = mail
        .to_address
        .parse()
        .map_err(|e| BuildError::Recipient(mail.to_address.clone(), format!("{e}")))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()))
        .date(mail.created_at.into())
        .raw_header(HeaderValue::new(CONTENT_LANGUAGE, mail.lang.clone()))
        // RFC 3834: no vacation replies or other automatic answers to these.
        .raw_header(HeaderValue::new(
            AUTO_SUBMITTED,
            "auto-generated".to_string(),
        ));
    if let Some(url) = &mail.unsubscribe_url {
        // RFC 2369 and RFC 8058: mail programs show an "unsubscribe" button that POSTs
        // `List-Unsubscribe=One-Click` to the URL, without the member logging in.
        builder = builder
            .raw_header(HeaderValue::new(LIST_UNSUBSCRIBE, format!("<{url}>")))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE_POST,
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            mail.html_body.clone(),
        ))
        .map_err(|e| BuildError::Message(e.to_string()))
}

/// The file name of a row in the file sink: the queueing time (so a folder listing reads in
/// order) and the unique part of its `Message-ID` (so a mail written again replaces itself).
pub fn file_name(mail: &DbMail) -> String {
    let unique: String = mail
        .message_id
        .trim_matches(|c| c == '<' || c == '>')
        .split('@')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{}-{}-{unique}.eml",
        mail.created_at.format("%Y%m%dT%H%M%S"),
        mail.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn row(unsubscribe: Option<&str>) -> DbMail {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 5, 9, 30, 0)
            .single()
            .expect("date");
        DbMail {
            id: 7,
            account_id: Some(1),
            to_address: "lea@example.org".into(),
            category: "notification".into(),
            lang: "fr".into(),
            subject: "Réponse de Léa".into(),
            text_body: "Bonjour,\n\nLéa vous a répondu.\n".into(),
            html_body: "<p>Léa vous a répondu.</p>".into(),
            unsubscribe_url: unsubscribe.map(str::to_string),
            message_id: "<0b6f0c4e-1d2a-4c1e-9d7e-2f5a8c3b9e10@culture.example>".into(),
            state: "queued".into(),
            attempts: 0,
            next_attempt_at: at,
            claimed_at: None,
            last_error: None,
            created_at: at,
            sent_at: None,
            failed_at: None,
        }
    }

    fn from() -> Mailbox {
        "cultureCnous <noreply@culture.example>"
            .parse()
            .expect("from")
    }

    #[test]
    fn notification_mails_carry_one_click_unsubscribe() {
        let url = "https://culture.example/desabonnement?t=1.kind-reply.abc";
        let text = String::from_utf8(build(&row(Some(url)), &from()).expect("build").formatted())
            .expect("utf-8");
        assert!(
            text.contains(&format!("List-Unsubscribe: <{url}>\r\n")),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(text.contains("Auto-Submitted: auto-generated\r\n"));
        assert!(text.contains("Content-Language: fr\r\n"));
        assert!(
            text.contains("Message-ID: <0b6f0c4e-1d2a-4c1e-9d7e-2f5a8c3b9e10@culture.example>\r\n")
        );
        assert!(
            text.contains("Date: Sat, 05 Dec 2026 09:30:00 +0000\r\n"),
            "{text}"
        );
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain"));
        assert!(text.contains("text/html"));
    }

    #[test]
    fn account_mails_have_no_unsubscribe_headers() {
        let text = String::from_utf8(build(&row(None), &from()).expect("build").formatted())
            .expect("utf-8");
        assert!(!text.contains("List-Unsubscribe"));
        assert!(text.contains("Auto-Submitted: auto-generated\r\n"));
    }

    #[test]
    fn bad_recipients_are_build_errors() {
        let mut mail = row(None);
        mail.to_address = "not an address".into();
        assert!(matches!(
            build(&mail, &from()),
            Err(BuildError::Recipient(..))
        ));
    }

    #[test]
    fn file_names_are_stable_and_safe() {
        let mail = row(None);
        assert_eq!(
            file_name(&mail),
            "20261205T093000-7-0b6f0c4e-1d2a-4c1e-9d7e-2f5a8c3b9e10.eml"
        );
        let mut odd = row(None);
        odd.message_id = "<../../etc/passwd@x>".into();
        assert_eq!(file_name(&odd), "20261205T093000-7-etcpasswd.eml");
    }
}
