-- Run by the postgres image on its first start (an empty data volume), as POSTGRES_USER.
-- Every Ringway node keeps its own copy of the cluster's event log (the leader writes what it
-- commits, followers what they replay), so each gets a database; one writer per log is what
-- the log enforces. The customer store is shared, in POSTGRES_DB (ringway).
-- One line per node: keep in step with RINGWAY_EVENTS_DB in compose.yaml.
CREATE DATABASE ringway_events_a OWNER ringway;
CREATE DATABASE ringway_events_b OWNER ringway;
