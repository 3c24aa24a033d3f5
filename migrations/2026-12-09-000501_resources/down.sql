DROP TABLE resource_versions;
DROP TABLE resources;
DROP FUNCTION resources_search_refresh();
