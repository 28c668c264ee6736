begin;
drop view room_occupancy_today;
drop view upcoming_bookings;
commit;
