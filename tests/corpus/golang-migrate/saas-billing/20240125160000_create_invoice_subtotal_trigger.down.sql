DROP TRIGGER invoice_line_items_refresh_subtotal ON invoice_line_items;
DROP FUNCTION refresh_invoice_subtotal();
