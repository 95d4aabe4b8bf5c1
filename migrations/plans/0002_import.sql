-- What the importer keeps: the source text of every version, the parsed structure next to the raw
-- text of every cell, and the lint findings for a person to decide on.
ALTER TABLE plan
    ADD COLUMN source_key          text CONSTRAINT plan_source_key_unique UNIQUE,
    ADD COLUMN version             integer NOT NULL DEFAULT 1,
    ADD COLUMN approval_kind       text,
    ADD COLUMN approval_number     text,
    ADD COLUMN approval_date       date,
    ADD COLUMN approval_signatory  text,
    ADD COLUMN goals               text[] NOT NULL DEFAULT '{}';

ALTER TABLE measure
    ADD COLUMN key               text,
    ADD COLUMN kind              text NOT NULL DEFAULT 'MEASURE' CHECK (kind IN ('MEASURE', 'MILESTONE')),
    ADD COLUMN schedule          jsonb,
    ADD COLUMN schedule_kind     text,
    -- Derived from `schedule`: the first day work starts and the last day it is due, when known.
    ADD COLUMN starts_on         date,
    ADD COLUMN due_on            date,
    ADD COLUMN reporting_forms   text,
    ADD COLUMN notes             text,
    ADD COLUMN indicator_text    text,
    ADD COLUMN targets           jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- Every responsible party (organisations, roles, teams) as parsed, with its raw text.
    ADD COLUMN parties           jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN source_line       integer,
    ADD CONSTRAINT measure_key_unique UNIQUE (plan_id, key);
CREATE INDEX measure_due_idx ON measure (due_on);

CREATE TABLE plan_version (
    plan_id        uuid NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    version        integer NOT NULL,
    source_sha256  text NOT NULL,
    source_text    text NOT NULL,
    file_name      text,
    imported_at    timestamptz NOT NULL DEFAULT now(),
    -- The import summary (counts, deadlines by kind, indicator targets, unresolved names) and
    -- what changed against the previous version.
    summary        jsonb NOT NULL,
    changes        jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (plan_id, version)
);

CREATE TABLE lint_finding (
    plan_id         uuid NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    code            text NOT NULL,
    severity        text NOT NULL,
    message         text NOT NULL,
    line            integer,
    measure_number  text,
    PRIMARY KEY (plan_id, position)
);

-- Sub-rows (one per subject under a measure) and control points may carry no title of their own;
-- the document is kept as written.
ALTER TABLE measure DROP CONSTRAINT measure_title_check;
ALTER TABLE measure ADD CONSTRAINT measure_title_check
    CHECK (btrim(title) <> '' OR parent_measure_id IS NOT NULL OR kind = 'MILESTONE');
