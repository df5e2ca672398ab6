/**
 * The health of the PostgreSQL read models: each projection's lag, and whether one has stopped.
 *
 * Lag alone cannot tell a stopped projection from a busy one: under load the read models are
 * always some events behind. A projection has stopped when it is behind the log's head and its
 * checkpoint has not moved for `stallMs`, as this process saw it across health checks. Any
 * process can tell, API processes too, since the checkpoints are in the database: a projection
 * that fails on every attempt (the runner retries it for ever), or no worker process running at
 * all, then shows on every instance's /health. Sends wait for their projection and time out
 * meanwhile, and lists go stale; verifications still work, so the check is optional: /health
 * says degraded (503) while readiness holds, and taking every instance out of the load balancer
 * would turn a partial outage into a whole one.
 */
import { HealthProblem } from '../../application/health/check-health.js';
import type { Clock, HealthCheck } from '../../application/ports.js';

/** `head` is read after the checkpoints, so a checkpoint past it means the log shrank. */
export type ProjectionProgress = { readonly head: number; readonly checkpoints: Readonly<Record<string, number>> };
export type StalledProjection = { readonly projection: string; readonly behind: number; readonly stalled_s: number };

/** Events in the log not yet applied, per projection. */
export const lagOf = ({ head, checkpoints }: ProjectionProgress): Record<string, number> =>
  Object.fromEntries(Object.entries(checkpoints).map(([name, position]) => [name, Math.max(0, head - position)]));

/**
 * Remembers, per projection, where its checkpoint was when first seen behind and since when;
 * tells the projections seen behind at the same checkpoint for `stallMs` or longer. A caught-up
 * or moving projection starts over, so only a checkpoint that stays put while the log is ahead
 * of it counts (a first look knows nothing of before: it starts the clock).
 */
export const createStallWatch = (stallMs: number, clock: Clock) => {
  const seen = new Map<string, { readonly checkpoint: number; readonly since: number }>();
  return (progress: ProjectionProgress): StalledProjection[] => {
    const now = clock().getTime();
    const stalled: StalledProjection[] = [];
    for (const [projection, checkpoint] of Object.entries(progress.checkpoints)) {
      const last = seen.get(projection);
      if (checkpoint >= progress.head) seen.delete(projection);
      else if (last?.checkpoint !== checkpoint) seen.set(projection, { checkpoint, since: now });
      else if (now - last.since >= stallMs)
        stalled.push({ projection, behind: progress.head - checkpoint, stalled_s: Math.floor((now - last.since) / 1000) });
    }
    return stalled;
  };
};

export const readModelsHealthCheck = (
  progress: () => Promise<ProjectionProgress>,
  options: { readonly stallMs: number; readonly clock: Clock },
): HealthCheck => {
  const watch = createStallWatch(options.stallMs, options.clock);
  return {
    name: 'read_models',
    optional: true,
    check: async () => {
      const now = await progress();
      const lag = lagOf(now);
      // A checkpoint past the log's head (read after the checkpoints, so never by a race): the
      // log was cut back or restored from an older backup. The store numbers new events from its
      // head again, and the projections would skip them as already applied, silently.
      const ahead = Object.entries(now.checkpoints)
        .filter(([, checkpoint]) => checkpoint > now.head)
        .map(([projection, checkpoint]) => ({ projection, checkpoint, head: now.head }));
      if (ahead.length > 0)
        throw new HealthProblem(`ahead of the log: ${ahead.map((entry) => entry.projection).join(', ')} (cut back or restored: run "projections rebuild")`, { lag, ahead });
      const stalled = watch(now);
      if (stalled.length > 0) throw new HealthProblem(`stalled: ${stalled.map((entry) => entry.projection).join(', ')}`, { lag, stalled });
      return { lag };
    },
  };
};
