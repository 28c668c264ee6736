-- No CASCADE: by the time this runs every later down has emptied the schema.
DROP SCHEMA events;
