-- Events are indexed at `confirmed`; this marks those whose transaction the cluster
-- has since finalized. An unfinalized event whose transaction the cluster no longer
-- knows was on a dropped fork: it and its market's later events are rolled back.
ALTER TABLE events ADD COLUMN finalized BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX events_unfinalized ON events (slot) WHERE NOT finalized;
