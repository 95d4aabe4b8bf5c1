-- Cells of columns the parser has no role for ("Источник финансирования", ...), per measure, in
-- column order: [{"header": "...", "value": "..."}]. Kept so that no column of a document is
-- lost; measures imported before this migration had none recorded.
ALTER TABLE measure ADD COLUMN extra jsonb NOT NULL DEFAULT '[]'::jsonb;
