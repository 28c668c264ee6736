START TRANSACTION;

CREATE TABLE booking_log (
    id          serial      PRIMARY KEY,
    room_id     integer     NOT NULL,
    customer_id integer     NOT NULL,
    action      varchar(20) NOT NULL,
    begin       timestamp,
    "end"       timestamp,
    logged_at   timestamp   NOT NULL DEFAULT now()
);

CREATE TABLE booking_notifications (
    id          serial      PRIMARY KEY,
    customer_id integer     NOT NULL,
    channel     varchar(10) NOT NULL,
    body        text        NOT NULL,
    queued_at   timestamp   NOT NULL DEFAULT now()
);

-- Legacy auditing done with a rule instead of a trigger. The action list is
-- in parentheses and its commands are separated by semicolons; only the one
-- after the closing parenthesis ends the CREATE RULE.
-- (NEW.id is deliberately not used: in a rule it would re-evaluate the serial
-- default and log the wrong id.)
CREATE RULE bookings_log_insert AS
    ON INSERT TO bookings
    DO ALSO (
        INSERT INTO booking_log (room_id, customer_id, action, begin, "end")
        VALUES (NEW.room_id, NEW.customer_id, 'created', NEW.begin, NEW."end");
        INSERT INTO booking_notifications (customer_id, channel, body)
        VALUES (NEW.customer_id, 'email', 'Booking received; we will confirm it shortly.');
    );

COMMIT;
