-- Feeds and the "Actualités" page (issue 4): the local published posts and announcements of
-- every author, newest first. `posts_listing_idx` leads with `category` and so cannot serve a
-- list mixing both categories in date order without a sort; this one can (LIMIT 20 reads 20
-- index entries).
CREATE INDEX posts_news_idx ON posts (published_at DESC, id DESC)
    WHERE deleted_at IS NULL AND NOT draft AND local;
