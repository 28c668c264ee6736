DROP INDEX invoice_line_items_invoice_id_idx;
DROP TABLE invoice_line_items;
