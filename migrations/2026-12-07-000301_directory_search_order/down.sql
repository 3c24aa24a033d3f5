DROP INDEX accounts_suspended;
DROP INDEX actors_gone_or_blocked;
DROP INDEX offers_search_name_order;
DROP INDEX venues_search_name_order;
DROP INDEX accounts_search_name_order;
