-- The deadline watcher's memory: one row per measure and missed due day, written in the
-- transaction of its DEADLINE_MISSED outbox event. The primary key makes the event happen once
-- per (measure, due day) whatever the number of watcher passes, restarts and replicas; a due day
-- moved by a re-import is a new deadline and may be missed again.
CREATE TABLE deadline_miss (
    measure_id   uuid NOT NULL REFERENCES measure (id) ON DELETE CASCADE,
    due_on       date NOT NULL,
    -- The hub's date ("today", ROADMAP_CLOCK) when the miss was found.
    detected_on  date NOT NULL,
    detected_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deadline_miss_pkey PRIMARY KEY (measure_id, due_on)
);

-- The watcher's scan: measures past due and not finished.
CREATE INDEX measure_open_due_idx ON measure (due_on) WHERE status NOT IN ('DONE', 'CANCELLED');
