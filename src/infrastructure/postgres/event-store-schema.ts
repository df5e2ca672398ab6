/**
 * Schema and SQL of the PostgreSQL event store. Data and metadata are `json`, not `jsonb`:
 * `json` keeps the exact text (key order, `\u0000` escapes that jsonb refuses) and is still
 * queryable with `->`/`->>` by operators.
 */
import type { Migration } from './migrate.js';

export const NOTIFY_CHANNEL = 'otp_verify_events';
export const REVISION_CONSTRAINT = 'events_stream_revision_key';

/**
 * Every append transaction takes this lock before reading the head, so positions are assigned
 * and committed in one order across processes: a reader of `position > X` can never see a later
 * position before an earlier one commits. Keyed by schema, so separate logs (one per schema) do
 * not serialize each other; the two-key form never collides with the one-key migration lock.
 */
export const APPEND_LOCK_KEY = 7_420_002;

/**
 * events_append_batch, whose notification differs between migrations: `create` is CREATE or
 * CREATE OR REPLACE, `declare` adds variables, `notify` runs after the INSERT.
 */
const appendBatchFunction = (create: string, declare: string, notify: string): string => `
${create} FUNCTION events_append_batch(
  p_streams text[], p_expected int[], p_counts int[],
  p_ids uuid[], p_types text[], p_data json[], p_metadata json[], p_recorded_at timestamptz
) RETURNS TABLE (o_accepted boolean, o_revision int, o_position bigint) LANGUAGE plpgsql AS $$
DECLARE
  v_head bigint;
  v_tails jsonb := '{}';
  v_rev int;
  v_pos bigint;
  v_row int := 1;
  v_streams text[] := '{}';
  v_revs int[] := '{}';
  v_positions bigint[] := '{}';
  v_rows int[] := '{}';
${declare}BEGIN
  PERFORM pg_advisory_xact_lock(${APPEND_LOCK_KEY}, hashtext(current_schema()));
  SELECT COALESCE(MAX(e.position), 0) INTO v_head FROM events e;
  FOR i IN 1 .. COALESCE(array_length(p_streams, 1), 0) LOOP
    IF v_tails ? p_streams[i] THEN
      v_rev := (v_tails -> p_streams[i] ->> 0)::int;
      v_pos := (v_tails -> p_streams[i] ->> 1)::bigint;
    ELSE
      SELECT e.revision, e.position INTO v_rev, v_pos FROM events e WHERE e.stream = p_streams[i] ORDER BY e.revision DESC LIMIT 1;
      IF NOT FOUND THEN
        v_rev := -1;
        v_pos := 0;
      END IF;
    END IF;
    IF p_expected[i] <> -2 AND p_expected[i] <> v_rev THEN
      o_accepted := false; o_revision := v_rev; o_position := NULL;
    ELSE
      FOR j IN 0 .. p_counts[i] - 1 LOOP
        v_rev := v_rev + 1;
        v_head := v_head + 1;
        v_pos := v_head;
        v_rows := v_rows || (v_row + j);
        v_streams := v_streams || p_streams[i];
        v_revs := v_revs || v_rev;
        v_positions := v_positions || v_head;
      END LOOP;
      v_tails := v_tails || jsonb_build_object(p_streams[i], jsonb_build_array(v_rev, v_pos));
      o_accepted := true; o_revision := v_rev; o_position := v_pos;
    END IF;
    RETURN NEXT;
    v_row := v_row + p_counts[i];
  END LOOP;
  IF array_length(v_rows, 1) > 0 THEN
    INSERT INTO events (position, id, stream, revision, type, data, metadata, recorded_at)
      SELECT a.pos, p_ids[a.r], a.stream, a.rev, p_types[a.r], p_data[a.r], p_metadata[a.r], p_recorded_at
      FROM unnest(v_positions, v_rows, v_streams, v_revs) AS a(pos, r, stream, rev);
${notify}  END IF;
END $$;
`;

/** Longest NOTIFY payload PostgreSQL takes is 8000 bytes; chunks stay under this. */
export const NOTIFY_PAYLOAD_BYTES = 7900;

const NOTIFY_TAILS_DECLARE = `  v_payload text;
  v_line text;
  v_stream text;
  v_revision text;
`;

// "<head>" then one line "<stream> <revision>" per stream the batch moved, in as many
// notifications as the 8000-byte limit needs, each starting with the head; a stream name too
// long for any payload is announced as "*" (some stream moved: forget everything).
const NOTIFY_TAILS = `    v_payload := v_head::text;
    FOR v_stream, v_revision IN SELECT key, value ->> 0 FROM jsonb_each(v_tails) LOOP
      v_line := E'\\n' || v_stream || ' ' || v_revision;
      IF octet_length(v_line) > ${NOTIFY_PAYLOAD_BYTES} - 40 THEN
        v_line := E'\\n*';
      END IF;
      IF octet_length(v_payload) + octet_length(v_line) > ${NOTIFY_PAYLOAD_BYTES} THEN
        PERFORM pg_notify('${NOTIFY_CHANNEL}', v_payload);
        v_payload := v_head::text;
      END IF;
      v_payload := v_payload || v_line;
    END LOOP;
    PERFORM pg_notify('${NOTIFY_CHANNEL}', v_payload);
`;

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
  {
    // A whole batch in one statement, so one round trip: under the append lock, each append is
    // checked against its stream's tail as the earlier appends of the batch leave it
    // (expected: a revision, -1 for no stream, -2 for any), accepted rows get the next
    // positions, and the commit notifies subscribers. One output row per append, in order.
    id: 'event-store-002',
    sql: appendBatchFunction('CREATE', '', `    PERFORM pg_notify('${NOTIFY_CHANNEL}', v_head::text);\n`),
  },
  {
    // The commit notification also names the streams the batch moved and their new revisions,
    // so other processes drop what they cached of them (see parseCommitPayload).
    id: 'event-store-003',
    sql: appendBatchFunction('CREATE OR REPLACE', NOTIFY_TAILS_DECLARE, NOTIFY_TAILS),
  },
];

/** One batch of appends (see events_append_batch); runs as its own transaction. */
export const APPEND_BATCH = `
SELECT o_accepted AS accepted, o_revision AS revision, o_position::text AS position
FROM events_append_batch($1::text[], $2::int[], $3::int[], $4::uuid[], $5::text[], $6::json[], $7::json[], $8::timestamptz)`;

// Qualified in ORDER BY: a bare name there would sort by the text alias.
const COLUMNS = 'position::text AS position, id::text AS id, stream, revision, type, data::text AS data, metadata::text AS metadata, recorded_at';
/** Stream $1 from revision $2 on: a range scan of the (stream, revision) unique index. */
export const SELECT_STREAM = `SELECT ${COLUMNS} FROM events WHERE stream = $1 AND revision >= $2 ORDER BY revision`;
/** A bounded read of one stream (paging through a long one); not grouped, as reads of whole streams are. */
export const SELECT_STREAM_LIMITED = `${SELECT_STREAM} LIMIT $3`;
/**
 * Several stream reads in one statement: stream $1[i] from revision $2[i] on, each a range scan
 * of the same index, tagged with i (from 1) and ordered by it, then by revision. `OFFSET 0`
 * keeps the per-stream subquery from being flattened into a join: a connection's cached
 * generic plan, made while the log was small, was a hash join over a scan of the whole log, and
 * stayed in use as the log grew (until an ANALYZE): 90–120 ms per read at 85,000 events.
 */
export const SELECT_STREAMS = `SELECT r.i::int AS request, e.*
  FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS r(stream, from_revision, i)
  CROSS JOIN LATERAL (
    SELECT ${COLUMNS} FROM events WHERE events.stream = r.stream AND events.revision >= r.from_revision ORDER BY events.revision OFFSET 0
  ) e
  ORDER BY r.i, e.revision`;
export const SELECT_AFTER = `SELECT ${COLUMNS} FROM events WHERE position > $1 ORDER BY events.position LIMIT $2`;
/** Rows below position 1 (only written behind the store's back), for the audit: the oldest $1. */
export const SELECT_BELOW_FIRST = `SELECT ${COLUMNS} FROM events WHERE position < 1 ORDER BY events.position LIMIT $1`;
export const SELECT_HEAD = 'SELECT COALESCE(MAX(position), 0)::text AS head FROM events';
export const SELECT_TAIL = 'SELECT revision FROM events WHERE stream = $1 ORDER BY revision DESC LIMIT 1';
