BEGIN;

-- Ported from the old MySQL schema, which called the two ends of a booking
-- "begin" and "end". END is a reserved word in PostgreSQL and must be quoted;
-- BEGIN is not reserved, and the original file left it bare, so it is bare
-- here too.
CREATE TABLE bookings (
    id          serial      PRIMARY KEY,
    room_id     integer     NOT NULL REFERENCES rooms (id),
    customer_id integer     NOT NULL REFERENCES customers (id),
    begin       timestamp   NOT NULL,
    "end"       timestamp   NOT NULL,
    status      varchar(20) NOT NULL DEFAULT 'pending',
    notes       text,
    created_at  timestamp   NOT NULL DEFAULT now(),
    CONSTRAINT bookings_time_order CHECK ("end" > begin),
    CONSTRAINT bookings_status_known
        CHECK (status IN ('pending', 'confirmed', 'cancelled', 'no-show'))
);

CREATE INDEX bookings_room_begin_idx ON bookings (room_id, begin);
CREATE INDEX bookings_customer_idx ON bookings (customer_id);

COMMIT;
