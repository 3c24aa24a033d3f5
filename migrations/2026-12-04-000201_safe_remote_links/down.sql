-- The links removed by up.sql were unsafe and are not restored: nothing to undo in the schema.
SELECT 1;
