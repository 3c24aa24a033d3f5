-- Links kept from other servers are shown as href/src: only http(s) ones stay. Rows stored
-- before inbound links were checked may hold javascript:, data:, vbscript: or relative ones.
UPDATE actors SET url = NULL
    WHERE NOT local AND url IS NOT NULL AND url !~* '^https?://[^/]';
UPDATE actors SET icon_url = NULL
    WHERE NOT local AND icon_url IS NOT NULL AND icon_url !~* '^https?://[^/]';
UPDATE comments SET url = NULL
    WHERE url IS NOT NULL AND url !~* '^https?://[^/]';
UPDATE posts SET url = NULL
    WHERE NOT local AND url IS NOT NULL AND url !~* '^https?://[^/]';
