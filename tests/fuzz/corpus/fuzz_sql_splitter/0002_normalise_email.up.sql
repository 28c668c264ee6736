-- A function with a dollar-quoted body: semicolons inside are not statement ends.
CREATE FUNCTION normalise_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.email := lower(trim(NEW.email));
  RETURN NEW;
END;
$$;
CREATE TRIGGER accounts_normalise_email BEFORE INSERT OR UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION normalise_email();
