BEGIN;

-- pgcrypto ships with PostgreSQL contrib (and is a trusted extension since
-- PostgreSQL 13, so the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE customers (
    id            serial       PRIMARY KEY,
    full_name     varchar(200) NOT NULL,
    email         varchar(320) NOT NULL UNIQUE,
    phone         varchar(40),
    password_hash text,
    created_at    timestamp    NOT NULL DEFAULT now()
);

COMMIT;
