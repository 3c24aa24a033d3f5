//! What one send came to: the response status (seen by the probe) or the library's error,
//! mapped to an [`Outcome`] that decides the row's and the host's fate.

use super::{MAX_ERROR_CHARS, SEND_DEADLINE};
use crate::federation::http_client::{ProbedResponse, Refused};
use activitypub_federation::error::Error as FederationError;
use reqwest::StatusCode;
use std::time::Duration;

/// What one send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// Worth another try later. `host_down` when the host did not answer properly (no answer,
    /// 5xx, 408), which counts towards marking it unreachable.
    Retry { error: String, host_down: bool },
    /// 429: the host asks us to wait (for `Retry-After` when given).
    Paused {
        error: String,
        retry_after: Option<Duration>,
    },
    /// 410 from the inbox: its owner is gone; not retried.
    Gone(String),
    /// A permanent 4xx (anything but 408 and 429): not retried.
    Rejected(String),
    /// We refused to send (address or URL not allowed, nothing to sign with): not retried.
    Refused(String),
}

impl Outcome {
    /// Whether the host answered like a live server.
    pub(super) fn host_alive(&self) -> bool {
        matches!(
            self,
            Outcome::Delivered | Outcome::Gone(_) | Outcome::Rejected(_) | Outcome::Paused { .. }
        )
    }
}

/// Classifies a send from the library's result and the response status the probe saw.
pub fn classify(
    result: Result<Result<(), FederationError>, tokio::time::error::Elapsed>,
    probed: Option<ProbedResponse>,
) -> Outcome {
    if let Some(ProbedResponse {
        status,
        retry_after,
    }) = probed
    {
        let detail = match &result {
            Ok(Err(e)) => format!("HTTP {status}: {}", error_chain(e)),
            _ => format!("HTTP {status}"),
        };
        return match status {
            s if s.is_success() => Outcome::Delivered,
            StatusCode::GONE => Outcome::Gone(detail),
            StatusCode::TOO_MANY_REQUESTS => Outcome::Paused {
                error: detail,
                retry_after,
            },
            StatusCode::REQUEST_TIMEOUT => Outcome::Retry {
                error: detail,
                host_down: true,
            },
            s if s.is_client_error() => Outcome::Rejected(detail),
            s => Outcome::Retry {
                error: detail,
                host_down: s.is_server_error(),
            },
        };
    }
    match result {
        Err(_) => Outcome::Retry {
            error: format!("no answer within {} s", SEND_DEADLINE.as_secs()),
            host_down: true,
        },
        Ok(Ok(())) => Outcome::Retry {
            error: "the request ended without a response".into(),
            host_down: true,
        },
        Ok(Err(e)) => match refusal_in(&e) {
            Some(refused) => Outcome::Refused(format!("not sent: {refused}")),
            None => Outcome::Retry {
                error: error_chain(&e),
                host_down: true,
            },
        },
    }
}

/// Our SSRF refusal, wherever it sits in the error (middleware or resolver).
fn refusal_in(e: &FederationError) -> Option<Refused> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = match e {
        FederationError::ReqwestMiddleware(reqwest_middleware::Error::Middleware(inner)) => {
            if let Some(refused) = inner.downcast_ref::<Refused>() {
                return Some(refused.clone());
            }
            Some(inner.as_ref())
        }
        FederationError::ReqwestMiddleware(reqwest_middleware::Error::Reqwest(inner))
        | FederationError::Reqwest(inner) => Some(inner),
        _ => None,
    };
    while let Some(err) = current {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(refused) = io.get_ref().and_then(|i| i.downcast_ref::<Refused>())
        {
            return Some(refused.clone());
        }
        current = err.source();
    }
    None
}

/// The error with its causes ("error sending request: connection refused"), shortened.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    shorten(&text)
}

pub(super) fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_ERROR_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_ERROR_CHARS).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probed(status: u16) -> Option<ProbedResponse> {
        Some(ProbedResponse {
            status: StatusCode::from_u16(status).expect("status"),
            retry_after: None,
        })
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(classify(Ok(Ok(())), probed(202)), Outcome::Delivered);
        assert!(matches!(
            classify(Ok(Ok(())), probed(410)),
            Outcome::Gone(_)
        ));
        assert!(matches!(
            classify(Ok(Ok(())), probed(400)),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            classify(Ok(Ok(())), probed(403)),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            classify(Ok(Ok(())), probed(429)),
            Outcome::Paused { .. }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("x".into()))), probed(408)),
            Outcome::Retry {
                host_down: true,
                ..
            }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("x".into()))), probed(503)),
            Outcome::Retry {
                host_down: true,
                ..
            }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("x".into()))), probed(302)),
            Outcome::Retry {
                host_down: false,
                ..
            }
        ));
        assert!(matches!(
            classify(Ok(Err(FederationError::Other("down".into()))), None),
            Outcome::Retry {
                host_down: true,
                ..
            }
        ));
        let refused = FederationError::ReqwestMiddleware(reqwest_middleware::Error::middleware(
            Refused::NoHost,
        ));
        assert!(matches!(
            classify(Ok(Err(refused)), None),
            Outcome::Refused(_)
        ));
    }

    #[test]
    fn long_errors_are_shortened() {
        let long = "x".repeat(2000);
        assert_eq!(shorten(&long).chars().count(), MAX_ERROR_CHARS + 1);
        assert_eq!(shorten("short"), "short");
    }
}
