-- Plans, their sections and measures. Organisation and territory ids refer to the people
-- subgraph: they cross a service boundary, so they carry no foreign key.
CREATE TABLE plan (
    id                     uuid PRIMARY KEY,
    title                  text NOT NULL CHECK (btrim(title) <> ''),
    level                  text NOT NULL CHECK (level IN ('FEDERAL', 'REGIONAL', 'MUNICIPAL', 'SCHOOL')),
    period_start           date,
    period_end             date,
    period_text            text,
    owner_organisation_id  uuid,
    territory_id           uuid,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plan_period_order CHECK (period_start IS NULL OR period_end IS NULL OR period_start <= period_end)
);
CREATE INDEX plan_level_idx ON plan (level, title, id);
CREATE INDEX plan_territory_idx ON plan (territory_id);
CREATE INDEX plan_title_idx ON plan (title, id);

CREATE TABLE section (
    id        uuid PRIMARY KEY,
    plan_id   uuid NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    -- As written in the document: "1", "III", "" when the document has none.
    number    text NOT NULL,
    title     text NOT NULL,
    CONSTRAINT section_position_unique UNIQUE (plan_id, position)
);

CREATE TABLE measure (
    id                 uuid PRIMARY KEY,
    plan_id            uuid NOT NULL REFERENCES plan (id) ON DELETE CASCADE,
    section_id         uuid REFERENCES section (id) ON DELETE CASCADE,
    parent_measure_id  uuid REFERENCES measure (id) ON DELETE CASCADE,
    position           integer NOT NULL,
    -- As written: "1.3", "III.5", "5." (documents repeat and skip numbers; that is linted, not fixed).
    number             text NOT NULL,
    title              text NOT NULL CHECK (btrim(title) <> ''),
    schedule_text      text,
    expected_result    text,
    responsible_text   text,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX measure_plan_idx ON measure (plan_id, position);
CREATE INDEX measure_section_idx ON measure (section_id, position);
CREATE INDEX measure_parent_idx ON measure (parent_measure_id, position);

CREATE TABLE measure_responsible (
    measure_id       uuid NOT NULL REFERENCES measure (id) ON DELETE CASCADE,
    organisation_id  uuid NOT NULL,
    position         integer NOT NULL,
    PRIMARY KEY (measure_id, organisation_id)
);
CREATE INDEX measure_responsible_org_idx ON measure_responsible (organisation_id);
