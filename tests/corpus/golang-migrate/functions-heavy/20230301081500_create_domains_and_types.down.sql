DROP TYPE ledger.entry_side;
DROP TYPE ledger.money_amount;
DROP DOMAIN ledger.email_address;
DROP DOMAIN ledger.positive_amount;
DROP DOMAIN ledger.currency_code;
