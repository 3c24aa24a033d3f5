//! Persistent delivery queue. Domain functions record outbound events; `federation::outbox`
//! turns each into an activity and calls [`enqueue`] inside the same transaction, so the
//! domain rows and the deliveries commit (or roll back) together.
//!
//! Sending: rows are claimed (see `db::deliveries::claim`), POSTed through the delivery client
//! whose signer signs them as the activity's actor (key parsed once per actor, in the scheme
//! the server reads: `http_client::HttpSigner`), sent with a 10 s limit, and the answer decides
//! what happens next ([`Outcome`]): delivered; retried after 1 min, 5 min, 30 min, 2 h, 6 h,
//! 12 h, 24 h, 48 h, then given up; given up at once on a permanent 4xx; the sender marked gone
//! on a 410 from its own inbox; the host paused on a 429. The background workers
//! (`workers.rs`) and the test helpers [`drain`] / [`drain_all_now`] share this engine.
//!
//! - `enqueue.rs`: writing the activity and its delivery rows;
//! - `engine.rs`: claiming, signing, sending, recording outcomes;
//! - `classify.rs`: what an answer (or its absence) means for the row and the host;
//! - `report.rs`: what the admin page shows about the queue.

mod classify;
mod engine;
mod enqueue;
mod report;

pub use classify::{Outcome, classify};
pub(crate) use engine::{
    Engine, EngineSettings, HostLimiter, InFlight, RECORD_BATCH, RECORD_DELAY, delivery_client,
};
pub use engine::{drain, drain_all_now, retry_delay};
pub use enqueue::{OutgoingActivity, enqueue, followers_inboxes, mark_alive};
pub use report::{QueueReport, queue_report};

use std::time::Duration;

/// Channel of the PostgreSQL notification sent when deliveries are enqueued: it is delivered
/// at commit, to every `serve` process, and wakes their workers.
pub const NOTIFY_CHANNEL: &str = "culturecnous_deliveries";

/// Waits before each retry; after the last one the delivery is given up.
pub const BACKOFF: [Duration; 8] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(48 * 3600),
];

/// A host failing for this long is marked unreachable.
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// An unreachable host still gets one probe delivery per this interval, so it is noticed when
/// it comes back even if it never writes to us first.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(6 * 3600);

/// How long a claimed row is a worker's. Longer than the send deadline with a wide margin:
/// only a dead worker should ever let a lease run out.
pub const LEASE: Duration = Duration::from_secs(30);

/// The whole send (signing included) is abandoned after this long, whatever the client does.
pub const SEND_DEADLINE: Duration = Duration::from_secs(12);

/// A `429` without a usable `Retry-After` pauses the host this long; longer requests are
/// capped so a hostile header cannot park deliveries for months.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
pub const MAX_PAUSE: Duration = Duration::from_secs(24 * 3600);

/// Longest error text kept on a row.
pub(crate) const MAX_ERROR_CHARS: usize = 500;
