ALTER TABLE domain_blocks
    DROP COLUMN reject_reports,
    DROP COLUMN public_comment;
