//! In-memory token buckets, one per key (a sending server, a client address). Each process
//! keeps its own: behind a load balancer with N nodes a peer gets up to N times the allowance.

use std::{collections::HashMap, sync::Mutex, time::Instant};

/// Keys tracked before idle ones (full buckets) are forgotten.
const MAX_KEYS: usize = 10_000;

/// How much a key may spend: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub burst: f64,
    pub per_minute: f64,
}

impl Budget {
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Budget {
            burst: f64::from(burst.max(1)),
            per_minute: f64::from(per_minute.max(1)),
        }
    }

    fn per_second(&self) -> f64 {
        self.per_minute / 60.0
    }
}

#[derive(Default)]
pub struct TokenBuckets {
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl TokenBuckets {
    /// Takes a token for `key`; on refusal, the seconds until one is available.
    pub fn take(&self, key: &str, budget: Budget) -> Result<(), u64> {
        let per_second = budget.per_second();
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            // A panic while holding the lock: fail open rather than refuse everyone.
            return Ok(());
        };
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < budget.burst
            });
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: budget.burst,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(budget.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }

    /// Returns a token taken by [`TokenBuckets::take`] for work that turned out not to count.
    pub fn give_back(&self, key: &str, budget: Budget) {
        if let Ok(mut buckets) = self.buckets.lock()
            && let Some(bucket) = buckets.get_mut(key)
        {
            bucket.tokens = (bucket.tokens + 1.0).min(budget.burst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_per_key_and_give_back() {
        let buckets = TokenBuckets::default();
        let budget = Budget::new(3, 1);
        for _ in 0..3 {
            buckets.take("a", budget).expect("within burst");
        }
        let retry = buckets.take("a", budget).expect_err("over burst");
        assert!((1..=60).contains(&retry), "{retry}");
        buckets.take("b", budget).expect("other key unaffected");
        buckets.give_back("a", budget);
        buckets.take("a", budget).expect("the returned token");
        assert!(buckets.take("a", budget).is_err());
    }
}
