-- Password-reset requests are counted per client address in the same table as failed logins
-- and sign-ups, so the limit holds across every `serve` process.
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures
    ADD CONSTRAINT login_failures_scope_check
    CHECK (scope IN ('ip', 'account', 'signup', 'password_reset'));
