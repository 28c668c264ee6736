DROP TYPE invoice_status;
DROP TYPE subscription_status;
DROP TYPE plan_tier;
