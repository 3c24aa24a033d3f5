-- The public URL every local id was built from, recorded at first start, so that a changed
-- `instance.url` is reported as such (with the way out) instead of failing on the ids. One row.
-- `first_federated_at` is set the first time a delivery to another server is queued: from then
-- on others know our ids, and `instance move-url` refuses. Delivered rows are purged after a
-- while, so the queue itself cannot answer "ever".
CREATE TABLE instance_identity (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    url TEXT,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    moved_from TEXT,
    moved_at TIMESTAMPTZ,
    first_federated_at TIMESTAMPTZ
);

-- Statement-level, and after the first time only a read of the one row: the row is written
-- (and so locked) once, not by every transaction that queues deliveries.
CREATE FUNCTION instance_identity_mark_federated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM instance_identity WHERE first_federated_at IS NOT NULL) THEN
        INSERT INTO instance_identity (singleton, first_federated_at)
        VALUES (TRUE, now())
        ON CONFLICT (singleton) DO UPDATE
            SET first_federated_at = now()
            WHERE instance_identity.first_federated_at IS NULL;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER deliveries_mark_federated
    AFTER INSERT ON deliveries
    FOR EACH STATEMENT
    EXECUTE FUNCTION instance_identity_mark_federated();

-- A database that already has deliveries has federated.
INSERT INTO instance_identity (singleton, first_federated_at)
SELECT TRUE, min(created_at) FROM deliveries HAVING count(*) > 0;
