-- Class-level results: which assessment a value comes from, its numerator, and where the unit it is
-- about sits in the tree (classes under schools, schools under municipalities, ...), recorded
-- from the people subgraph when the value is.

ALTER TABLE observation
    -- OFFICIAL: the exam's results as the assessment centre reports them (ЕГЭ, ОГЭ); MOCK_EXAM: a
    -- mock exam ("пробный экзамен"); DIAGNOSTIC: a diagnostic test ("диагностическая работа").
    -- Rollups never fold one into another. Rows recorded before are official results.
    ADD COLUMN result_source text NOT NULL DEFAULT 'OFFICIAL'
        CONSTRAINT observation_result_source_known CHECK (result_source IN ('OFFICIAL', 'MOCK_EXAM', 'DIAGNOSTIC')),
    -- How many of `denominator` the value counts (e.g. 5 of 24 who wrote were below the minimum
    -- score), when reported so. A count of pupils, never a list of them.
    ADD COLUMN numerator numeric
        CONSTRAINT observation_numerator_within CHECK (
            numerator IS NULL OR (denominator IS NOT NULL AND numerator >= 0 AND numerator <= denominator)),
    -- Organisations above the observed one, nearest first (a class: its school).
    ADD COLUMN organisation_path uuid[] NOT NULL DEFAULT '{}',
    -- Territories above the observed unit, nearest first: for an organisation's value its
    -- territory (or its nearest ancestor's) and that territory's ancestors; for a territory's own
    -- value its parent and up. NULL for values recorded without it (before this migration, bulk
    -- loads): those roll up into `parent_territory_id` only, one level, as before.
    ADD COLUMN territory_path uuid[];

-- One value per unit, period, subject and result source: a class may report a mock exam and a
-- diagnostic test in one year, a school its official result next to them.
ALTER TABLE observation DROP CONSTRAINT observation_unique;
ALTER TABLE observation ADD CONSTRAINT observation_unique UNIQUE NULLS NOT DISTINCT
    (indicator_id, territory_id, organisation_id, period, subject, result_source);

-- Rollups read a whole subtree in one statement: every value whose path holds the parent.
CREATE INDEX observation_territory_path ON observation USING gin (territory_path);
CREATE INDEX observation_organisation_path ON observation USING gin (organisation_path);
CREATE INDEX observation_organisation ON observation (organisation_id, indicator_id);
