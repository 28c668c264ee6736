DROP TABLE events.dead_letters;
