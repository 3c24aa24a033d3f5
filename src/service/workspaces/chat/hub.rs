//! Live chat: one broadcast channel per workspace that has an open page, in this process.
//! A domain function publishes a message here once its transaction has committed; the same
//! transaction `NOTIFY`s [`CHANNEL`] so every other `serve` process on the database publishes
//! it to its own open pages too ([`listen`]). Channels are created by the first page that
//! opens and dropped with the last one.

use super::MessageView;
use crate::{
    db::{self, DbPool, listen::stop_requested, workspace_messages::DbWorkspaceMessage},
    error::AppResult,
};
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// The PostgreSQL notification channel of chat events.
pub const CHANNEL: &str = "workspace_chat";
/// Frames kept for a slow page before it skips some (it then reloads what it missed).
const CAPACITY: usize = 256;
const RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Message,
    Edited,
    Deleted,
}

/// One frame sent to open pages, as JSON.
#[derive(Debug, Serialize)]
pub struct Frame<'a> {
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(flatten)]
    pub message: &'a MessageView,
}

impl Frame<'_> {
    pub fn to_json(&self) -> Arc<str> {
        serde_json::to_string(self)
            .unwrap_or_else(|_| "{}".to_string())
            .into()
    }
}

/// The payload of a notification between processes (a message's text may exceed
/// PostgreSQL's 8000-byte payload: each process reads the row itself).
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    /// The process that committed it (it published to its own pages already).
    o: Uuid,
    w: Uuid,
    k: Kind,
    m: Uuid,
}

#[derive(Default)]
struct Inner {
    channels: Mutex<HashMap<Uuid, broadcast::Sender<Arc<str>>>>,
}

/// This process's channels. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    origin: Uuid,
    inner: Arc<Inner>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            origin: Uuid::new_v4(),
            inner: Arc::default(),
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("origin", &self.origin).finish()
    }
}

/// An open page's feed of one workspace; leaving drops the channel when it was the last.
pub struct Subscription {
    hub: Hub,
    workspace_id: Uuid,
    pub receiver: broadcast::Receiver<Arc<str>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut channels) = self.hub.inner.channels.lock()
            && let Some(sender) = channels.get(&self.workspace_id)
            // This subscription's receiver is still alive while `drop` runs.
            && sender.receiver_count() <= 1
        {
            channels.remove(&self.workspace_id);
        }
    }
}

impl Hub {
    pub fn subscribe(&self, workspace_id: Uuid) -> Subscription {
        let receiver = match self.inner.channels.lock() {
            Ok(mut channels) => channels
                .entry(workspace_id)
                .or_insert_with(|| broadcast::channel(CAPACITY).0)
                .subscribe(),
            // A poisoned lock: a channel of its own that nobody feeds (the page still works
            // by reloading).
            Err(_) => broadcast::channel(1).0.subscribe(),
        };
        Subscription {
            hub: self.clone(),
            workspace_id,
            receiver,
        }
    }

    /// Open pages of this workspace in this process.
    pub fn listeners(&self, workspace_id: Uuid) -> usize {
        self.inner
            .channels
            .lock()
            .ok()
            .and_then(|c| c.get(&workspace_id).map(|s| s.receiver_count()))
            .unwrap_or(0)
    }

    /// Workspaces with an open page in this process.
    pub fn open_workspaces(&self) -> usize {
        self.inner.channels.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn sender(&self, workspace_id: Uuid) -> Option<broadcast::Sender<Arc<str>>> {
        self.inner
            .channels
            .lock()
            .ok()
            .and_then(|c| c.get(&workspace_id).cloned())
    }

    /// Sends a frame to this process's open pages of the workspace.
    pub fn publish(&self, workspace_id: Uuid, frame: Arc<str>) {
        if let Some(sender) = self.sender(workspace_id) {
            // No receiver left: nobody to tell.
            let _ = sender.send(frame);
        }
    }

    /// Builds the frame of `message` and publishes it; a failure only costs the live update.
    pub async fn publish_message(
        &self,
        conn: &mut AsyncPgConnection,
        kind: Kind,
        message: &DbWorkspaceMessage,
    ) {
        if self.sender(message.workspace_id).is_none() {
            return;
        }
        match db::actors::by_id(conn, message.author_actor_id).await {
            Ok(author) => {
                let view = MessageView::of(message, &author);
                self.publish(
                    message.workspace_id,
                    Frame {
                        kind,
                        message: &view,
                    }
                    .to_json(),
                );
            }
            Err(e) => tracing::warn!("chat frame of {}: {e}", message.id),
        }
    }
}

/// Tells the other processes, at commit, that message `message_id` changed.
pub async fn notify_others(
    conn: &mut AsyncPgConnection,
    hub: &Hub,
    workspace_id: Uuid,
    kind: Kind,
    message_id: Uuid,
) -> AppResult<()> {
    let payload = serde_json::to_string(&Note {
        o: hub.origin,
        w: workspace_id,
        k: kind,
        m: message_id,
    })?;
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// Publishes what other processes committed, until shutdown; reconnects after a failure.
pub async fn listen(pool: DbPool, hub: Hub, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match open_listener(&pool).await {
            Ok(mut listener) => {
                let mut notifications = std::pin::pin!(listener.notifications_stream());
                loop {
                    tokio::select! {
                        next = notifications.next() => match next {
                            Some(Ok(n)) => relay(&pool, &hub, &n.payload).await,
                            Some(Err(e)) => {
                                tracing::warn!("chat listener: {e}");
                                break;
                            }
                            None => break,
                        },
                        changed = shutdown.changed() => {
                            if stop_requested(changed, &shutdown) {
                                return;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("chat listener: cannot listen ({e})"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RECONNECT_DELAY) => {}
            changed = shutdown.changed() => {
                if stop_requested(changed, &shutdown) {
                    return;
                }
            }
        }
    }
}

async fn open_listener(pool: &DbPool) -> anyhow::Result<AsyncPgConnection> {
    let pooled = pool.get().await?;
    let mut conn = deadpool::managed::Object::take(pooled);
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// One notification of another process: publish the message to our open pages.
async fn relay(pool: &DbPool, hub: &Hub, payload: &str) {
    let Ok(note) = serde_json::from_str::<Note>(payload) else {
        return;
    };
    if note.o == hub.origin || hub.sender(note.w).is_none() {
        return;
    }
    let Ok(mut conn) = pool.get().await else {
        return;
    };
    match db::workspace_messages::by_id(&mut conn, note.m).await {
        Ok(Some(message)) if message.workspace_id == note.w => {
            hub.publish_message(&mut conn, note.k, &message).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("chat relay of {}: {e}", note.m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn channel_lives_while_a_page_is_open() {
        let hub = Hub::default();
        let ws = Uuid::new_v4();
        assert_eq!(hub.open_workspaces(), 0);
        let mut a = hub.subscribe(ws);
        let b = hub.subscribe(ws);
        assert_eq!(hub.listeners(ws), 2);
        hub.publish(ws, Arc::from("x"));
        assert_eq!(&*a.receiver.recv().await.expect("frame"), "x");
        drop(b);
        assert_eq!(hub.open_workspaces(), 1);
        drop(a);
        assert_eq!(hub.open_workspaces(), 0);
        // Publishing to a workspace nobody watches is a no-op.
        hub.publish(ws, Arc::from("y"));
        assert_eq!(hub.open_workspaces(), 0);
    }
}
