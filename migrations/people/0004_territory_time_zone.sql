-- The time zone of a territory (an IANA name, e.g. 'Asia/Chita'), in which its plans' "today" and
-- OVERDUE are taken. NULL: none of its own; the effective zone is then the reference zone of a
-- region of that name, else the parent's (see services/people/src/time_zones.rs), else Moscow.
ALTER TABLE territory ADD COLUMN time_zone text CHECK (time_zone IS NULL OR time_zone ~ '^[A-Za-z0-9_+/-]+$');
