-- Visitors' reports are counted per client address and per email address given, in the same
-- table as failed logins, sign-ups and password-reset requests.
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures
    ADD CONSTRAINT login_failures_scope_check
    CHECK (scope IN ('ip', 'account', 'signup', 'password_reset', 'report_ip', 'report_email'));
