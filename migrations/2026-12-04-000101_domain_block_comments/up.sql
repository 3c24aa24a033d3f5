-- What a domain block says publicly (the reason, `reason` staying the moderators' private
-- note), and whether reports from that domain are refused.
ALTER TABLE domain_blocks
    ADD COLUMN public_comment TEXT NOT NULL DEFAULT '',
    ADD COLUMN reject_reports BOOLEAN NOT NULL DEFAULT false;
