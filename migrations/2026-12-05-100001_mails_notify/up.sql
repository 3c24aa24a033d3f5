-- Wakes the mail workers of every node when mails are queued: one notification per INSERT
-- statement, sent at commit (none on rollback), whatever code queued them and however many
-- rows one statement queued.
CREATE FUNCTION mails_notify_queued() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('culturecnous_mails', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER mails_queued
    AFTER INSERT ON mails
    FOR EACH STATEMENT
    EXECUTE FUNCTION mails_notify_queued();
