//! Mail: every mail the platform sends is queued in PostgreSQL (`mails`) in the transaction of
//! the action that causes it, then sent by the mail worker. Domain functions build an
//! [`OutgoingMail`] (usually with [`MailBody::render`]) and call [`enqueue`]; they never talk
//! to a transport.

use crate::{
    context::AppContext,
    db::{self, mails::NewMail},
    error::AppResult,
    i18n::Lang,
};
use diesel_async::AsyncPgConnection;

pub mod admin;
pub mod message;
pub mod transport;
pub mod unsubscribe;
pub mod worker;

pub use worker::{SendReport, send_due};

/// Why a mail is sent: stored with it (admin view, statistics) and deciding its headers
/// (notification mails carry `List-Unsubscribe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailCategory {
    /// The link that confirms the address given at registration.
    ConfirmEmail,
    /// The password-reset link.
    ResetPassword,
    /// The link that confirms a new address (sent to the new one).
    ChangeEmail,
    /// The notice sent to the old address when the address changes.
    EmailChanged,
    /// One notification, sent at once.
    Notification,
    /// The daily or weekly digest.
    Digest,
    /// A moderation decision's statement of reasons (sent whatever the member's preferences:
    /// no unsubscribe link).
    ModerationDecision,
    /// The outcome of a visitor's report, to the address they left.
    ReportOutcome,
    /// The link that lets a listed directory entry's actor claim it.
    ClaimInvitation,
    /// The link of an invitation to a project workspace, to an address with no account.
    WorkspaceInvitation,
}

impl MailCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            MailCategory::ConfirmEmail => "confirm_email",
            MailCategory::ResetPassword => "reset_password",
            MailCategory::ChangeEmail => "change_email",
            MailCategory::EmailChanged => "email_changed",
            MailCategory::Notification => "notification",
            MailCategory::Digest => "digest",
            MailCategory::ModerationDecision => "moderation_decision",
            MailCategory::ReportOutcome => "report_outcome",
            MailCategory::ClaimInvitation => "claim_invitation",
            MailCategory::WorkspaceInvitation => "workspace_invitation",
        }
    }

    /// Mails a member may stop receiving (RFC 8058 one-click unsubscribe applies).
    pub fn is_bulk(self) -> bool {
        matches!(self, MailCategory::Notification | MailCategory::Digest)
    }
}

/// A mail ready to queue: already in the recipient's language.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// The member it is for, when it is for a member (kept for the admin view).
    pub account_id: Option<i64>,
    pub to: String,
    pub lang: Lang,
    pub category: MailCategory,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`), required for bulk categories.
    pub unsubscribe_url: Option<String>,
}

/// The content of a mail, turned into its plain-text and HTML parts by [`MailBody::render`]:
/// every mail has the same simple shape, so senders only say what to say.
#[derive(Debug, Clone, Default)]
pub struct MailBody {
    /// Opening line, e.g. "Bonjour Léa,".
    pub greeting: String,
    /// Paragraphs of plain text (escaped in the HTML part).
    pub paragraphs: Vec<String>,
    /// The main link: label and absolute URL.
    pub action: Option<(String, String)>,
    /// Closing paragraphs in small print (why you receive this, how to stop).
    pub footer: Vec<String>,
}

impl MailBody {
    /// `(text, html)`.
    pub fn render(&self, lang: Lang, instance_name: &str) -> (String, String) {
        let mut text = String::new();
        let mut html = format!(
            "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body style=\"font-family:sans-serif;line-height:1.5;color:#1e1e1e;max-width:40em\">\n",
            lang.code(),
            escape(instance_name)
        );
        if !self.greeting.is_empty() {
            text.push_str(&self.greeting);
            text.push_str("\n\n");
            html.push_str(&format!("<p>{}</p>\n", escape(&self.greeting)));
        }
        for p in &self.paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
            // A line break inside a paragraph (a digest's list) stays one in HTML.
            html.push_str(&format!("<p>{}</p>\n", escape(p).replace('\n', "<br>\n")));
        }
        if let Some((label, url)) = &self.action {
            text.push_str(&format!("{label} :\n{url}\n\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\" style=\"color:#1a4f8b\">{}</a></p>\n",
                escape(url),
                escape(label)
            ));
        }
        text.push_str(&format!("-- \n{instance_name}\n"));
        html.push_str(&format!(
            "<p style=\"color:#505050\">{}</p>\n",
            escape(instance_name)
        ));
        for f in &self.footer {
            text.push_str(f);
            text.push('\n');
            html.push_str(&format!(
                "<p style=\"font-size:0.875em;color:#505050\">{}</p>\n",
                escape(f)
            ));
        }
        html.push_str("</body></html>\n");
        (text, html)
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Queues mails in the caller's transaction; returns their ids.
pub async fn enqueue_many(
    conn: &mut AsyncPgConnection,
    ctx: &AppContext,
    mails: Vec<OutgoingMail>,
) -> AppResult<Vec<i64>> {
    let host = url::Url::parse(ctx.urls.base())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".to_string());
    let rows: Vec<NewMail> = mails
        .into_iter()
        .map(|m| NewMail {
            account_id: m.account_id,
            to_address: m.to,
            category: m.category.as_str().to_string(),
            lang: m.lang.code().to_string(),
            subject: m.subject,
            text_body: m.text,
            html_body: m.html,
            unsubscribe_url: m.unsubscribe_url,
            message_id: format!("<{}@{host}>", uuid::Uuid::new_v4()),
        })
        .collect();
    // A trigger on `mails` notifies the workers at commit (one round trip for any number).
    Ok(db::mails::insert_many(conn, &rows).await?)
}

/// Queues one mail in the caller's transaction; returns its id.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    ctx: &AppContext,
    mail: OutgoingMail,
) -> AppResult<i64> {
    let ids = enqueue_many(conn, ctx, vec![mail]).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| crate::error::AppError::internal("mail not queued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_escapes_and_keeps_both_parts_in_step() {
        let body = MailBody {
            greeting: "Bonjour Léa,".into(),
            paragraphs: vec![
                "<script>alert(1)</script> & co".into(),
                "Annonce 1\nAnnonce 2".into(),
            ],
            action: Some((
                "Voir".into(),
                "https://culture.example/a?b=1&c=\"2\"".into(),
            )),
            footer: vec!["Pour ne plus recevoir ces courriels : https://culture.example/x".into()],
        };
        let (text, html) = body.render(Lang::En, "Culture <88>");
        assert!(text.starts_with("Bonjour Léa,\n\n<script>alert(1)</script> & co\n\n"));
        assert!(text.contains("Voir :\nhttps://culture.example/a?b=1&c=\"2\"\n"));
        assert!(text.contains("-- \nCulture <88>\nPour ne plus recevoir"));
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("Annonce 1<br>\nAnnonce 2"));
        assert!(html.contains("href=\"https://culture.example/a?b=1&amp;c=&quot;2&quot;\""));
        assert!(html.contains("Culture &lt;88&gt;</p>"));
    }
}
