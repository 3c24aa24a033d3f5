DROP TRIGGER mails_queued ON mails;
DROP FUNCTION mails_notify_queued();
