-- Draft or approved: anonymous readers see approved plans only (roadmap_common::auth).
-- Plans already stored are public documents, hence the default.
ALTER TABLE plan ADD COLUMN state text NOT NULL DEFAULT 'APPROVED'
    CONSTRAINT plan_state_check CHECK (state IN ('DRAFT', 'APPROVED'));
CREATE INDEX plan_state_territory_idx ON plan (state, territory_id);
