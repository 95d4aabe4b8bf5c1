-- Indicator definitions get their semantics; baselines, targets, observations and the links from
-- plan measures to the indicators they serve.

ALTER TABLE indicator
    ADD COLUMN direction   text NOT NULL DEFAULT 'HIGHER_IS_BETTER'
        CONSTRAINT indicator_direction_known CHECK (direction IN ('LOWER_IS_BETTER', 'HIGHER_IS_BETTER')),
    ADD COLUMN aggregation text NOT NULL DEFAULT 'NOT_AGGREGATABLE'
        CONSTRAINT indicator_aggregation_known CHECK (aggregation IN ('WEIGHTED_MEAN', 'SUM', 'NOT_AGGREGATABLE')),
    -- Names of the dimensions values are broken down by (today only `subject`).
    ADD COLUMN dimensions  text[] NOT NULL DEFAULT '{}',
    -- Fixed dimension values of the definition: "ЕГЭ"/"ОГЭ" and the grade.
    ADD COLUMN exam        text,
    ADD COLUMN grade       int,
    -- Periods (years) the indicator is defined for, inclusive; NULL = open.
    ADD COLUMN period_from int,
    ADD COLUMN period_to   int,
    -- Range of valid values, inclusive; NULL = open. Shares in % are 0..100.
    ADD COLUMN min_value   numeric,
    ADD COLUMN max_value   numeric,
    ADD CONSTRAINT indicator_period_order CHECK (period_from IS NULL OR period_to IS NULL OR period_from <= period_to),
    ADD CONSTRAINT indicator_value_order CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value);

-- A baseline or target of one indicator for one territory (or organisation), period (year) and
-- subject ('' when the indicator has no subject), with the plan (and measure) that set it.
CREATE TABLE indicator_target (
    id               uuid PRIMARY KEY,
    indicator_id     uuid NOT NULL REFERENCES indicator (id),
    territory_id     uuid,
    organisation_id  uuid,
    period           int NOT NULL,
    subject          text NOT NULL DEFAULT '',
    kind             text NOT NULL CONSTRAINT indicator_target_kind_known CHECK (kind IN ('BASELINE', 'TARGET')),
    comparator       text NOT NULL DEFAULT 'EQ'
        CONSTRAINT indicator_target_comparator_known CHECK (comparator IN ('EQ', 'GE', 'LE', 'GT', 'LT')),
    value            numeric NOT NULL,
    -- The value exactly as the document writes it ("32,79").
    value_raw        text NOT NULL,
    plan_id          uuid,
    measure_id       uuid,
    source_line      int,
    -- Order within the plan's call (document order).
    position         int,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT indicator_target_unique UNIQUE NULLS NOT DISTINCT
        (indicator_id, plan_id, territory_id, organisation_id, period, subject, kind)
);
CREATE INDEX indicator_target_territory ON indicator_target (territory_id, indicator_id);
CREATE INDEX indicator_target_plan ON indicator_target (plan_id);

-- An actual value. `parent_territory_id` is the territory it rolls up into, recorded at write time
-- from the people subgraph: for a territory's own value its parent territory, for an
-- organisation's (school's) value the organisation's territory.
CREATE TABLE observation (
    id                   uuid PRIMARY KEY,
    indicator_id         uuid NOT NULL REFERENCES indicator (id),
    territory_id         uuid,
    organisation_id      uuid,
    parent_territory_id  uuid,
    period               int NOT NULL,
    subject              text NOT NULL DEFAULT '',
    value                numeric NOT NULL,
    value_raw            text NOT NULL,
    denominator          numeric CONSTRAINT observation_denominator_positive CHECK (denominator > 0),
    source               text,
    observed_on          date,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT observation_has_subject CHECK (territory_id IS NOT NULL OR organisation_id IS NOT NULL),
    CONSTRAINT observation_unique UNIQUE NULLS NOT DISTINCT
        (indicator_id, territory_id, organisation_id, period, subject)
);
CREATE INDEX observation_parent ON observation (parent_territory_id, indicator_id);
CREATE INDEX observation_territory ON observation (territory_id, indicator_id);

-- Which plan measures serve which indicators.
CREATE TABLE measure_indicator (
    measure_id    uuid NOT NULL,
    indicator_id  uuid NOT NULL REFERENCES indicator (id),
    PRIMARY KEY (measure_id, indicator_id)
);
CREATE INDEX measure_indicator_indicator ON measure_indicator (indicator_id);
