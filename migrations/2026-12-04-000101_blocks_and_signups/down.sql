DELETE FROM login_failures WHERE scope = 'signup';
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures
    ADD CONSTRAINT login_failures_scope_check CHECK (scope IN ('ip', 'account'));

ALTER TABLE domain_blocks
    DROP COLUMN reject_reports,
    DROP COLUMN public_comment;
