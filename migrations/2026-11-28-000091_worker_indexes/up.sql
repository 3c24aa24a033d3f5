-- The hourly purge of finished deliveries filters on delivered_at (failed_at already has
-- deliveries_failed); without this index it scans every row ever delivered.
CREATE INDEX deliveries_delivered ON deliveries (delivered_at) WHERE delivered_at IS NOT NULL;
-- A 410 from an inbox marks the remote actor owning it as gone, looked up by inbox URL.
CREATE INDEX actors_remote_inbox ON actors (inbox_url) WHERE NOT local;
