DELETE FROM login_failures WHERE scope IN ('report_ip', 'report_email');
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures
    ADD CONSTRAINT login_failures_scope_check
    CHECK (scope IN ('ip', 'account', 'signup', 'password_reset'));
