-- The cascade: measures of lower-level plans implement measures of higher-level plans
-- (many-to-many), plans declare the plans they implement, and measures carry a status.
ALTER TABLE measure
    ADD COLUMN status             text NOT NULL DEFAULT 'PLANNED'
                                  CHECK (status IN ('PLANNED', 'IN_PROGRESS', 'DONE', 'CANCELLED')),
    -- Reported progress in percent; NULL when nobody reported any.
    ADD COLUMN progress           numeric CHECK (progress >= 0 AND progress <= 100),
    -- Weight of this measure in its parent's rolled-up progress.
    ADD COLUMN weight             numeric NOT NULL DEFAULT 1 CHECK (weight > 0),
    ADD COLUMN status_changed_at  timestamptz;

CREATE TABLE plan_parent (
    plan_id         uuid NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    parent_plan_id  uuid NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    PRIMARY KEY (plan_id, parent_plan_id),
    CONSTRAINT plan_parent_not_self CHECK (plan_id <> parent_plan_id)
);
CREATE INDEX plan_parent_parent_idx ON plan_parent (parent_plan_id);

CREATE TABLE measure_link (
    id             uuid PRIMARY KEY,
    -- The lower-level measure that carries out ...
    measure_id     uuid NOT NULL REFERENCES measure (id) ON DELETE CASCADE,
    -- ... this higher-level measure.
    implements_id  uuid NOT NULL REFERENCES measure (id) ON DELETE CASCADE,
    state          text NOT NULL CHECK (state IN ('SUGGESTED', 'CONFIRMED', 'REJECTED')),
    -- Similarity score when the link was suggested.
    score          double precision,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    decided_by     text,
    decided_at     timestamptz,
    CONSTRAINT measure_link_unique UNIQUE (measure_id, implements_id),
    CONSTRAINT measure_link_not_self CHECK (measure_id <> implements_id)
);
CREATE INDEX measure_link_implements_idx ON measure_link (implements_id);
