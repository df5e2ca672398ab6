/**
 * One leader per named role across processes: a session-level advisory lock held on a
 * dedicated connection. Followers retry every `retryMs`, so a leader that dies (its session
 * ends, the lock goes with it) is replaced within that time.
 */
import type pg from 'pg';
import type { Logger } from '../../application/ports.js';

export type Leadership = { readonly isLeader: () => boolean; readonly stop: () => Promise<void> };

export const createAdvisoryLeadership = (pool: pg.Pool, name: string, options: { retryMs?: number; logger?: Logger } = {}): Leadership => {
  const retryMs = options.retryMs ?? 3000;
  let client: pg.PoolClient | undefined;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const release = (error?: Error) => {
    if (leader) options.logger?.warn('leadership lost', { role: name });
    leader = false;
    client?.release(error ?? true);
    client = undefined;
  };

  const attempt = async () => {
    if (stopped || leader) return;
    try {
      client ??= await pool.connect();
      client.once('error', (error) => release(error));
      const result = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtextextended('leader:' || current_schema() || ':' || $1, 0)) AS locked", [name]);
      leader = result.rows[0]?.locked === true;
      if (leader) options.logger?.info('leadership taken', { role: name });
      else release();
    } catch {
      release();
    } finally {
      if (!stopped) timer = setTimeout(() => void attempt(), retryMs);
    }
  };
  void attempt();

  return {
    isLeader: () => leader,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      // Ending the session releases the lock.
      if (client) release(new Error('leadership stopped'));
    },
  };
};
