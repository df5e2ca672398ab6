import type { Deps } from './deps.js';

/**
 * Read-your-writes after a recorded change, best effort: waits until every projection has
 * applied `position`, so the caller's next query sees the change. The change is durable
 * whatever happens here, so a wait that gives up (a projections rebuild, no worker running,
 * the database slow) is logged and the command still answers its success: a 500 would tell the
 * caller it failed, and a retried send would send another code. Revocations (logout) wait
 * strictly instead, since other processes may learn of them only through a projection.
 */
export const awaitReadModels = async (deps: Pick<Deps, 'readModels' | 'logger'>, position: number): Promise<void> => {
  try {
    await deps.readModels.waitFor(position);
  } catch (error) {
    deps.logger.warn('read models behind a recorded change; answering without waiting further', {
      position,
      reason: error instanceof Error ? error.message : String(error),
    });
  }
};
