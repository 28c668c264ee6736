/*
 * Keep invoices.subtotal_cents in step with the invoice's line items.
 *
 * /* Nested comment: PostgreSQL nests block comments (the SQL standard says
 *    so), so the close on the end of this line does not end the outer one. */
 *
 * The outer comment is still open here -- and a "--" inside a block comment
 * is just text, as is a ';' or a quote like it's.
 */
CREATE FUNCTION refresh_invoice_subtotal() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    target_invoice bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        target_invoice := OLD.invoice_id;
    ELSE
        target_invoice := NEW.invoice_id;
    END IF;

    UPDATE invoices AS i
       SET subtotal_cents = coalesce((SELECT sum(li.amount_cents)
                                        FROM invoice_line_items AS li
                                       WHERE li.invoice_id = target_invoice), 0)
     WHERE i.id = target_invoice;

    /* A line item moved to another invoice: refresh the one it left too. */
    IF TG_OP = 'UPDATE' AND NEW.invoice_id <> OLD.invoice_id THEN
        UPDATE invoices AS i
           SET subtotal_cents = coalesce((SELECT sum(li.amount_cents)
                                            FROM invoice_line_items AS li
                                           WHERE li.invoice_id = OLD.invoice_id), 0)
         WHERE i.id = OLD.invoice_id;
    END IF;

    RETURN NULL;  -- AFTER trigger: return value is ignored
END;
$$;

-- a line comment containing /* does not open a block comment
CREATE TRIGGER invoice_line_items_refresh_subtotal
    AFTER INSERT OR UPDATE OR DELETE ON invoice_line_items
    FOR EACH ROW
    EXECUTE FUNCTION refresh_invoice_subtotal();
