/**
 * Rebuild: clear the named projections' collections and reset their checkpoints to 0 in one
 * transaction, so the runner (in whichever process leads) replays the whole log for them while
 * the projections run alongside skip what they already applied. The checkpoint row locks are the
 * point runners and rebuilds serialize on, taken in name order by both: a batch in flight commits
 * first and is then cleared, and a runner reads the locked checkpoints in every batch with
 * changes (and when idle), and moves them over a page without changes only where they still
 * are where it left them, so running workers pick the reset up without a restart. (Taking the
 * advisory lock instead would wait for as long as a runner leads, which is for ever.)
 */
import type pg from 'pg';
import type { Projection } from '../../application/read-models.js';
import { ENSURE_CHECKPOINTS, LOCK_CHECKPOINTS, MOVE_CHECKPOINTS } from './read-models-schema.js';
import { inTransaction } from './transaction.js';

/** Resets the named projections (all when `names` is omitted) and returns the names reset; rejects on an unknown name before changing anything. */
export const rebuildProjections = async (pool: pg.Pool, projections: readonly Projection[], names?: readonly string[]): Promise<readonly string[]> => {
  const byName = (name: string): Projection => {
    const projection = projections.find((candidate) => candidate.name === name);
    if (!projection) throw new Error(`Unknown projection "${name}"; known: ${projections.map((p) => p.name).join(', ')}`);
    return projection;
  };
  const chosen = names === undefined ? projections : names.map(byName);
  const reset = chosen.map((projection) => projection.name);
  await inTransaction(pool, async (client) => {
    await client.query(ENSURE_CHECKPOINTS, [reset]);
    await client.query(LOCK_CHECKPOINTS, [reset]);
    await client.query('DELETE FROM read_model_documents WHERE collection = ANY($1::text[])', [chosen.flatMap((projection) => projection.collections)]);
    await client.query(MOVE_CHECKPOINTS, [reset, 0]);
  });
  return reset;
};
