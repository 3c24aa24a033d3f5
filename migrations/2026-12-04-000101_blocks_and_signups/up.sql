-- What a domain block says publicly (the reason, `reason` staying the moderators' private
-- note), and whether reports from that domain are refused.
ALTER TABLE domain_blocks
    ADD COLUMN public_comment TEXT NOT NULL DEFAULT '',
    ADD COLUMN reject_reports BOOLEAN NOT NULL DEFAULT false;

-- Accounts created from the sign-up page are counted per client address in the same table.
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures
    ADD CONSTRAINT login_failures_scope_check CHECK (scope IN ('ip', 'account', 'signup'));
