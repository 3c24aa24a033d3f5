DROP INDEX IF EXISTS reports_by_date;
