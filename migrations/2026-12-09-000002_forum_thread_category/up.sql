-- Issue 13: a forum thread is a `posts` row of category `thread`; the category check of
-- 2026-11-28 knew only posts and announcements.
ALTER TABLE posts DROP CONSTRAINT posts_category_check;
ALTER TABLE posts ADD CONSTRAINT posts_category_check
    CHECK (category IN ('post', 'announcement', 'thread'));
