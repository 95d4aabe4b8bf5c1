-- Indicator definitions. Baselines, targets and observations come with the indicators issue.
CREATE TABLE indicator (
    id          uuid PRIMARY KEY,
    code        text NOT NULL CONSTRAINT indicator_code_unique UNIQUE CHECK (btrim(code) <> ''),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    unit        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
