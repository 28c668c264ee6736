-- The seed rows go with the table.
DROP TABLE plans;
