/**
 * Rebuild: clear a projection's collections and reset its checkpoint to 0 in one transaction,
 * so its runner (in whichever process leads) replays the whole log. The checkpoint row lock is
 * the point runners and rebuilds serialize on: a batch in flight commits first and is then
 * cleared, and a runner re-reads the checkpoint in every batch, so running workers pick the
 * reset up without a restart. (Taking the advisory lock instead would wait for as long as a
 * runner leads, which is for ever.)
 */
import type pg from 'pg';
import type { Projection } from '../../application/read-models.js';
import { ADVANCE_CHECKPOINT, ENSURE_CHECKPOINT, LOCK_CHECKPOINT } from './read-models-schema.js';

/** Resets the named projections (all when `names` is omitted) and returns the names reset; rejects on an unknown name before changing anything. */
export const rebuildProjections = async (pool: pg.Pool, projections: readonly Projection[], names?: readonly string[]): Promise<readonly string[]> => {
  const byName = (name: string): Projection => {
    const projection = projections.find((candidate) => candidate.name === name);
    if (!projection) throw new Error(`Unknown projection "${name}"; known: ${projections.map((p) => p.name).join(', ')}`);
    return projection;
  };
  const chosen = names === undefined ? projections : names.map(byName);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const projection of chosen) {
      await client.query(ENSURE_CHECKPOINT, [projection.name]);
      await client.query(LOCK_CHECKPOINT, [projection.name]);
      await client.query('DELETE FROM read_model_documents WHERE collection = ANY($1::text[])', [projection.collections]);
      await client.query(ADVANCE_CHECKPOINT, [projection.name, 0]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return chosen.map((projection) => projection.name);
};
