CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
DO $$ BEGIN RAISE NOTICE 'x;y'; END $$;
CREATE FUNCTION g() RETURNS trigger AS $body$ BEGIN RETURN NEW; END; $body$ LANGUAGE plpgsql;
SELECT E'a\\';' /* nested /* comment */ ; */ ; SELECT "q;""";
