-- Territories (country → region → municipality) and the organisations that act in them.
CREATE TABLE territory (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    kind        text NOT NULL CHECK (kind IN ('COUNTRY', 'REGION', 'MUNICIPALITY', 'SETTLEMENT')),
    parent_id   uuid REFERENCES territory (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT territory_name_unique UNIQUE NULLS NOT DISTINCT (parent_id, name)
);
CREATE INDEX territory_parent_idx ON territory (parent_id);

CREATE TABLE organisation (
    id            uuid PRIMARY KEY,
    name          text NOT NULL CHECK (btrim(name) <> ''),
    kind          text NOT NULL CHECK (kind IN ('MINISTRY', 'GOVERNMENT', 'INSTITUTE', 'ASSESSMENT_CENTRE',
                                                'MUNICIPAL_AUTHORITY', 'METHODOLOGICAL_CENTRE', 'SCHOOL', 'OTHER')),
    territory_id  uuid REFERENCES territory (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organisation_name_unique UNIQUE NULLS NOT DISTINCT (territory_id, name)
);
CREATE INDEX organisation_territory_idx ON organisation (territory_id);

-- Abbreviations as the documents define them ("(далее – МБУ ИМЦ)"); one short form may stand
-- for different organisations in different territories, never twice for the same one.
CREATE TABLE organisation_abbreviation (
    organisation_id  uuid NOT NULL REFERENCES organisation (id) ON DELETE CASCADE,
    abbreviation     text NOT NULL CHECK (btrim(abbreviation) <> ''),
    PRIMARY KEY (organisation_id, abbreviation)
);
CREATE INDEX organisation_abbreviation_idx ON organisation_abbreviation (abbreviation);
