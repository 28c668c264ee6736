BEGIN;

-- "begin" appears as a parameter name and a column name here; inside the
-- parameter list and the quoted body it is just an identifier.
CREATE FUNCTION overlapping_bookings(p_room_id integer, begin timestamp, "end" timestamp)
RETURNS SETOF bookings
LANGUAGE sql
STABLE
AS $$
    SELECT b.*
      FROM bookings b
     WHERE b.room_id = $1
       AND b.status IN ('pending', 'confirmed')
       AND b.begin < $3
       AND b."end" > $2;
$$;

CREATE VIEW booking_conflicts AS
SELECT a.id AS booking_id,
       b.id AS conflicts_with,
       a.room_id
  FROM bookings a
  JOIN bookings b
    ON b.room_id = a.room_id
   AND b.id > a.id
   AND b.begin < a."end"
   AND b."end" > a.begin
 WHERE a.status IN ('pending', 'confirmed')
   AND b.status IN ('pending', 'confirmed');

COMMIT;
