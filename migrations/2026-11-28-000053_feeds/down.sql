DROP INDEX IF EXISTS posts_news_idx;
