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

  // pg reads query_timeout from a query's config too; its types leave it out.
  const timed = (text: string, values: unknown[] = []): pg.QueryConfig => ({ text, values, query_timeout: retryMs }) as pg.QueryConfig;

  const release = (error?: Error) => {
    if (leader) options.logger?.warn('leadership lost', { role: name });
    leader = false;
    client?.release(error ?? true);
    client = undefined;
  };

  /**
   * Every `retryMs`, for as long as it runs: a follower tries to take the lock; the leader
   * checks that its session still answers (within `retryMs`), so a connection that died without
   * an error event (a network that drops packets) is let go and the role taken again. The next
   * round is always armed: a leader that stopped re-arming never came back after losing its
   * connection, and the role went unserved (a PostgreSQL restart stopped code deliveries).
   */
  const attempt = async () => {
    if (stopped) return;
    try {
      if (leader && client) await client.query(timed('SELECT 1'));
      else {
        client ??= await pool.connect();
        // Stopped while it waited for a connection or for the lock: a stopped process must not
        // take the role (nothing would serve it, nor release it until the pool ends).
        if (stopped) return release(new Error('leadership stopped'));
        const mine = client;
        mine.once('error', (error) => {
          if (client === mine) release(error);
        });
        const result = await mine.query<{ locked: boolean }>(
          timed("SELECT pg_try_advisory_lock(hashtextextended('leader:' || current_schema() || ':' || $1, 0)) AS locked", [name]),
        );
        if (stopped) return release(new Error('leadership stopped'));
        leader = result.rows[0]?.locked === true;
        if (leader) options.logger?.info('leadership taken', { role: name });
        else release();
      }
    } catch (error) {
      release(error instanceof Error ? error : new Error(String(error)));
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
      leader = false; // given up, not lost: no warning
      // Ending the session releases the lock.
      if (client) release(new Error('leadership stopped'));
    },
  };
};
