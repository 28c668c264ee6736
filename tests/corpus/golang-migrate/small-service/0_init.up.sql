-- Version 0: some teams start numbering at zero (golang-migrate accepts it).
CREATE TABLE service_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO service_settings (key, value) VALUES ('feature_flags', '{"beta": false}');
