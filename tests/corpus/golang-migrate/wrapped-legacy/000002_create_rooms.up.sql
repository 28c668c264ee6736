begin;

create table rooms (
    id       serial       primary key,
    code     varchar(16)  not null unique,
    name     varchar(100) not null,
    capacity integer      not null default 1 check (capacity > 0),
    floor    smallint
);

insert into rooms (code, name, capacity, floor) values
    ('A-101', 'Aspen', 6,  1),
    ('A-102', 'Birch', 4,  1),
    ('B-201', 'Cedar', 12, 2),
    ('B-202', 'Dogwood; the big one', 20, 2);

commit;
