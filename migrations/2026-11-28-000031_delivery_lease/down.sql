DROP INDEX IF EXISTS deliveries_failed;
ALTER TABLE deliveries DROP COLUMN claimed_at;
