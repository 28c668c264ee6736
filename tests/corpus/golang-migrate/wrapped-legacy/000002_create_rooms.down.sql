begin;
drop table rooms;
commit;
