DROP INDEX actors_remote_inbox;
DROP INDEX deliveries_delivered;
