DROP TABLE events.line_parsers;
