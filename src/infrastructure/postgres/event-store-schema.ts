/**
 * Schema and SQL of the PostgreSQL event store. Data and metadata are `json`, not `jsonb`:
 * `json` keeps the exact text (key order, `\u0000` escapes that jsonb refuses) and is still
 * queryable with `->`/`->>` by operators.
 */
import type { Migration } from './migrate.js';

export const eventStoreMigrations: readonly Migration[] = [
  {
    id: 'event-store-001',
    sql: `
CREATE TABLE events (
  position BIGINT PRIMARY KEY CHECK (position > 0),
  id UUID NOT NULL UNIQUE,
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL CHECK (revision >= 0),
  type TEXT NOT NULL,
  data JSON NOT NULL,
  metadata JSON NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  CONSTRAINT events_stream_revision_key UNIQUE (stream, revision)
);
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
`,
  },
];

export const NOTIFY_CHANNEL = 'otp_verify_events';
export const REVISION_CONSTRAINT = 'events_stream_revision_key';

/**
 * Every append transaction takes this lock before reading the head, so positions are assigned
 * and committed in one order across processes: a reader of `position > X` can never see a later
 * position before an earlier one commits. Keyed by schema, so separate logs (one per schema) do
 * not serialize each other; the two-key form never collides with the one-key migration lock.
 */
export const APPEND_LOCK_KEY = 7_420_002;
export const BEGIN_AND_LOCK = `BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_KEY}, hashtext(current_schema()))`;

/** Head of the log and the tail of each stream of the batch, read under the lock. */
export const READ_TAILS = `
SELECT COALESCE((SELECT MAX(position) FROM events), 0)::text AS head,
  COALESCE((SELECT json_agg(json_build_array(s.stream, t.revision, t.position))
    FROM unnest($1::text[]) AS s(stream)
    CROSS JOIN LATERAL (SELECT e.revision, e.position FROM events e WHERE e.stream = s.stream ORDER BY e.revision DESC LIMIT 1) t), '[]') AS tails`;

/** A data-modifying CTE always runs to completion; the notification is delivered on COMMIT. */
export const INSERT_AND_NOTIFY = `
WITH inserted AS (
  INSERT INTO events (position, id, stream, revision, type, data, metadata, recorded_at)
  SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::json[], $7::json[], $8::timestamptz[])
)
SELECT pg_notify('${NOTIFY_CHANNEL}', $9)`;

// Qualified in ORDER BY: a bare name there would sort by the text alias.
const COLUMNS = 'position::text AS position, id::text AS id, stream, revision, type, data::text AS data, metadata::text AS metadata, recorded_at';
export const SELECT_STREAM = `SELECT ${COLUMNS} FROM events WHERE stream = $1 ORDER BY revision`;
export const SELECT_AFTER = `SELECT ${COLUMNS} FROM events WHERE position > $1 ORDER BY events.position LIMIT $2`;
export const SELECT_HEAD = 'SELECT COALESCE(MAX(position), 0)::text AS head FROM events';
export const SELECT_TAIL = 'SELECT revision FROM events WHERE stream = $1 ORDER BY revision DESC LIMIT 1';
