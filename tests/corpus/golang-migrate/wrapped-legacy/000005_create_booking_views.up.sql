begin;

create view upcoming_bookings as
select b.id,
       b.begin,
       b."end",
       r.code      as room_code,
       c.full_name as customer_name,
       b.status
  from bookings b
  join rooms r     on r.id = b.room_id
  join customers c on c.id = b.customer_id
 where b."end" > now()
   and b.status <> 'cancelled';

create view room_occupancy_today as
select r.code,
       r.name,
       count(b.id) as bookings_today,
       min(b.begin) as first_begin,
       max(b."end") as last_end
  from rooms r
  left join bookings b
         on b.room_id = r.id
        and b.begin < current_date + 1
        and b."end" > current_date
        and b.status in ('pending', 'confirmed')
 group by r.code, r.name;

commit;
