DROP OPERATOR ledger.+ (ledger.money_amount, ledger.money_amount);
DROP FUNCTION ledger.add_money(ledger.money_amount, ledger.money_amount);
