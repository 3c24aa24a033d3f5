ALTER TABLE instance_identity DROP COLUMN link_secret;
DROP TABLE scheduled_runs;
DROP TABLE notification_preferences;
DROP TABLE notifications;
DROP TABLE alerts;
DROP TABLE mails;
DROP TABLE account_tokens;
ALTER TABLE accounts DROP COLUMN email_confirmed_at;
