-- Run by the postgres image on its first start (an empty data volume), as POSTGRES_USER.
-- Each Ringway node writes its own event log, a stream numbered 1, 2, 3... of its own,
-- so each gets a database; the customer store is shared, in POSTGRES_DB (ringway).
-- One line per node: keep in step with RINGWAY_EVENTS_DB in compose.yaml.
CREATE DATABASE ringway_events_a OWNER ringway;
CREATE DATABASE ringway_events_b OWNER ringway;
