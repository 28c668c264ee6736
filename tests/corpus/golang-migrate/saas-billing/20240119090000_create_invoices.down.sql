DROP TABLE invoices;
-- The sequence is OWNED BY invoices.number and went with the table; IF EXISTS
-- keeps this file correct if someone removes the OWNED BY later.
DROP SEQUENCE IF EXISTS invoice_number_seq;
