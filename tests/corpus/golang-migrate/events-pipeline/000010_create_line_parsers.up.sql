-- Parser rules per source kind. The patterns are regular expressions, so the
-- seed mixes E'' strings (backslashes doubled) with standard strings
-- (backslashes literal, standard_conforming_strings = on).
CREATE TABLE events.line_parsers (
    id          smallint PRIMARY KEY,
    source_kind text     NOT NULL,
    pattern     text     NOT NULL,
    description text     NOT NULL
);

INSERT INTO events.line_parsers (id, source_kind, pattern, description) VALUES
    (1, 'syslog', E'^<(\\d+)>(\\w{3} +\\d+ [\\d:]+) (\\S+) (.*)$',
        E'RFC 3164: <pri>timestamp host message\n(one line per event)'),
    (2, 'batch',  E'^([^;]*);([^;]*);(.*)$',
        'semicolon separated: ts;type;payload -- the third field is free text'),
    (3, 'http',   '^(\S+) (\S+) "([^"]*)"$',
        'standard string: the backslashes in this pattern are literal'),
    (4, 'kafka',  E'\\x01(.*)\\x02',
        E'STX/ETX framed; it\'s binary-safe so don''t strip control bytes'),
    (5, 'batch',  E'^\\s*(--|#)',
        'comment lines: a leading -- or # (matched, then dropped);');

COMMENT ON COLUMN events.line_parsers.pattern IS 'POSIX regex, matched with ~ -- never LIKE; anchored';
