DROP TABLE events.sources;
