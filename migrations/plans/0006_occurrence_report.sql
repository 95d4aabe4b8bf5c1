-- Reports on dated occurrences of measures ("held / not held"), one row per report: the latest
-- revision of a (measure, date) is the current report, earlier ones are its history.
-- Participants are counts only: no personal data of students is stored.
CREATE TABLE occurrence_report (
    measure_id    uuid NOT NULL REFERENCES measure (id) ON DELETE CASCADE,
    occurs_on     date NOT NULL,
    revision      integer NOT NULL CHECK (revision > 0),
    held          boolean NOT NULL,
    participants  integer CHECK (participants >= 0),
    -- http(s) links to evidence (minutes, photos, published reports).
    evidence      text[] NOT NULL DEFAULT '{}',
    note          text,
    reported_by   text NOT NULL,
    reported_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT occurrence_report_pkey PRIMARY KEY (measure_id, occurs_on, revision)
);
