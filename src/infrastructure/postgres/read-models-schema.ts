/**
 * Schema and SQL of the PostgreSQL read models. Documents of every collection share one table;
 * each projection's progress is one checkpoint row, written in the same transaction as the
 * documents it covers. Changes are applied by one server-side function, so a batch of events
 * costs one round trip however many changes (of however many projections) it makes.
 */
import type { FindOptions } from '../../application/read-models.js';
import type { Migration } from './migrate.js';

export const readModelMigrations: readonly Migration[] = [
  {
    id: 'read-models-001',
    sql: `
CREATE TABLE read_model_documents (
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  doc JSONB NOT NULL,
  PRIMARY KEY (collection, id)
);
-- findBy compares doc->>field; owner_id is the one field queried on large collections (apps per operator).
CREATE INDEX read_model_documents_owner_id ON read_model_documents (collection, (doc->>'owner_id'));
CREATE TABLE projection_checkpoints (
  name TEXT PRIMARY KEY,
  position BIGINT NOT NULL CHECK (position >= 0)
);
CREATE FUNCTION apply_read_model_changes(changes JSONB) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  change JSONB;
BEGIN
  FOR change IN SELECT c.value FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(value, n) ORDER BY c.n LOOP
    CASE change->>'op'
      WHEN 'put' THEN
        INSERT INTO read_model_documents (collection, id, doc) VALUES (change->>'collection', change->>'id', change->'doc')
        ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc;
      WHEN 'merge' THEN
        -- jsonb || is a shallow merge, right side winning; no row, no document: a no-op.
        UPDATE read_model_documents SET doc = doc || (change->'patch')
        WHERE collection = change->>'collection' AND id = change->>'id';
      WHEN 'delete' THEN
        DELETE FROM read_model_documents WHERE collection = change->>'collection' AND id = change->>'id';
      ELSE
        RAISE EXCEPTION 'unknown read model change %', change->>'op';
    END CASE;
  END LOOP;
END $$;
`,
  },
];

/** The advisory lock of a group of projections run together, per schema (a schema is one deployment; tests run several side by side). */
export const projectionLockKey = "hashtextextended('projection:' || current_schema() || ':' || $1, 0)";
/** A group's name for `projectionLockKey`: the same for the same projections, in any order. */
export const projectionGroup = (names: readonly string[]): string => JSON.stringify([...names].sort());

export const TRY_LOCK = `SELECT pg_try_advisory_lock(${projectionLockKey}) AS locked`;
/** In name order, like every lock taken on these rows, so concurrent inserts of the same rows cannot deadlock. */
export const ENSURE_CHECKPOINTS = `
INSERT INTO projection_checkpoints (name, position)
SELECT DISTINCT n.name, 0 FROM unnest($1::text[]) AS n(name) ORDER BY n.name
ON CONFLICT (name) DO NOTHING`;
export const STORED_CHECKPOINTS = 'SELECT name, position::text AS position FROM projection_checkpoints WHERE name = ANY($1::text[]) ORDER BY name';
/** Always in name order, so runners and rebuilds locking overlapping sets cannot deadlock. */
export const LOCK_CHECKPOINTS = `${STORED_CHECKPOINTS} FOR UPDATE`;
export const MOVE_CHECKPOINTS = 'UPDATE projection_checkpoints SET position = $2 WHERE name = ANY($1::text[])';
/**
 * Moves to $2 only the checkpoints still at $3, in one statement of its own (a page that changes
 * nothing needs no transaction): a row a rebuild reset, or another runner moved, stays put. Its
 * rows are locked in name order first, like every other writer of checkpoints: a plain UPDATE
 * would lock them in the table's physical order and could deadlock with a rebuild.
 */
export const MOVE_CHECKPOINTS_FROM = `
WITH locked AS (
  SELECT name FROM projection_checkpoints WHERE name = ANY($1::text[]) AND position = $3 ORDER BY name FOR UPDATE
)
UPDATE projection_checkpoints c SET position = $2 FROM locked WHERE c.name = locked.name AND c.position = $3`;
export const APPLY_CHANGES = 'SELECT apply_read_model_changes($1::jsonb)';
/** Checkpoints of the named projections, 0 for one that never ran. */
export const SELECT_CHECKPOINTS = `
SELECT n.name, COALESCE(c.position, 0)::text AS position
FROM unnest($1::text[]) AS n(name) LEFT JOIN projection_checkpoints c ON c.name = n.name`;
export const SELECT_DOC = 'SELECT doc FROM read_model_documents WHERE collection = $1 AND id = $2';
/**
 * `findBy`: the documents whose `field` equals `value`, by id; `FindOptions` (checked by the
 * caller) narrow, order and limit them in SQL. Without options:
 * `SELECT doc FROM read_model_documents WHERE collection = $1 AND doc->>$2::text = $3 ORDER BY id`.
 */
export const findDocsQuery = (collection: string, field: string, value: string, { ranges = [], orderBy, limit }: FindOptions): { text: string; values: unknown[] } => {
  const values: unknown[] = [collection, field, value];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  // A JSON number, else NULL (a string holding digits is not one, as in the in-memory store).
  const numberAt = (name: string): string => {
    const key = param(name);
    return `(CASE WHEN jsonb_typeof(doc->${key}::text) = 'number' THEN (doc->>${key}::text)::numeric END)`;
  };
  const where = ['collection = $1', 'doc->>$2::text = $3'];
  for (const { field: name, above, atMost, orMissing } of ranges) {
    const n = numberAt(name);
    const bounds = [...(above === undefined ? [] : [`${n} > ${param(above)}::numeric`]), ...(atMost === undefined ? [] : [`${n} <= ${param(atMost)}::numeric`])];
    const within = bounds.length > 0 ? bounds.join(' AND ') : `${n} IS NOT NULL`;
    where.push(orMissing ? `(${n} IS NULL OR (${within}))` : `(${within})`);
  }
  const order = orderBy === undefined ? 'id' : `${numberAt(orderBy)} ASC NULLS LAST, id`;
  const text = `SELECT doc FROM read_model_documents WHERE ${where.join(' AND ')} ORDER BY ${order}${limit === undefined ? '' : ` LIMIT ${param(limit)}`}`;
  return { text, values };
};
