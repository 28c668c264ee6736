DROP TRIGGER accounts_normalise_email ON accounts;
DROP FUNCTION normalise_email();
