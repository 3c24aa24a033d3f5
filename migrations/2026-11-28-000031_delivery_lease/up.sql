-- When a worker took the row (NULL when nobody holds it). The lease itself is next_attempt_at,
-- pushed forward at claim time; this column tells a lease from a backoff wait, so tests and
-- the admin page can see what is in flight, and drain() can wait for other workers.
ALTER TABLE deliveries ADD COLUMN claimed_at TIMESTAMPTZ;
CREATE INDEX deliveries_failed ON deliveries (failed_at DESC) WHERE failed_at IS NOT NULL;
