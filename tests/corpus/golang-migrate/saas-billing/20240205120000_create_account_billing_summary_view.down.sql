DROP VIEW account_billing_summary;
