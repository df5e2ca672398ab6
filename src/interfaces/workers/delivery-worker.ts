/**
 * Sends codes from the log: polls the due-deliveries projection, delivers each due challenge
 * (at most `concurrency` at once, never one challenge twice at once), and sweeps expired
 * challenges. Everything it needs to resume after a crash is in the log, so a 202 that was
 * answered before a crash is still delivered when the worker runs again.
 */
import type { Handlers } from '../../application/handlers.js';
import type { DueDelivery } from '../../application/challenges/expire-challenges.js';
import type { Logger } from '../../application/ports.js';

export type DeliveryWorkerOptions = {
  readonly handlers: Pick<Handlers, 'deliverChallenge' | 'listDueDeliveries' | 'expireChallenges'>;
  readonly logger: Logger;
  readonly pollMs?: number;
  /** Longest pause between polls while nothing is due (doubling from `pollMs`). */
  readonly idlePollMs?: number;
  readonly sweepMs?: number;
  readonly concurrency?: number;
  /** Only the leader delivers (one worker across processes); absent, this one always does. */
  readonly leadership?: { readonly isLeader: () => boolean };
};

export type DeliveryWorker = {
  readonly start: () => void;
  /** Stops polling and waits for deliveries in flight. */
  readonly stop: () => Promise<void>;
  /**
   * Looks for due work now, or once `pollMs` has passed since the last poll began (kicks never
   * make it poll more often than a busy worker does), and polls quickly again until some is
   * found. Ignored while every delivery slot is taken.
   */
  readonly kick: () => void;
  /** Deliveries this worker has started and not finished (a provider's call may be under way). */
  readonly underWay: () => number;
};

export const createDeliveryWorker = (options: DeliveryWorkerOptions): DeliveryWorker => {
  const { handlers, logger } = options;
  // Measured: 8 deliveries per 100 ms poll capped sends at ~76/s; a short poll and a wide
  // window keep the worker's pick-up from being the limit.
  const pollMs = options.pollMs ?? 20;
  // Idle, polling every 20 ms was 50 queries a second for nothing; backing off to 100 ms adds
  // at most that to the first send after a quiet spell.
  const idlePollMs = Math.max(pollMs, options.idlePollMs ?? 100);
  let delay = pollMs;
  const sweepMs = options.sweepMs ?? 10_000;
  const concurrency = options.concurrency ?? 32;
  const inFlight = new Map<string, Promise<void>>();
  // The due list lags the log by the projection's delay: an entry this worker has already
  // handled stays listed until its DeliverySucceeded is projected. Skip exactly that entry (a
  // resend or a retry is a new entry, made due by a later event) instead of reading the
  // challenge again.
  const handled = new Map<string, number>();
  // Sends waiting their turn at a paced provider (nothing recorded): not asked again before then.
  const deferred = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let polling = false;
  /** A kick during a poll: that poll may have listed the due entries before the kicked one. */
  let kickedWhilePolling = false;
  let lastSweep = 0;

  const deliver = ({ challenge_id: challengeId, since }: DueDelivery) => {
    const job = handlers
      .deliverChallenge(challengeId)
      .then((outcome) => {
        if (typeof outcome === 'object') deferred.set(challengeId, Date.now() + outcome.deferred_ms);
        else if (since !== undefined) handled.set(challengeId, since);
      })
      .catch((error: unknown) => logger.error('delivery step failed', { challenge_id: challengeId, error: error instanceof Error ? error.message : 'unknown' }))
      .finally(() => inFlight.delete(challengeId));
    inFlight.set(challengeId, job);
  };

  /** Resolves whether there was work (something due or still in flight). */
  const poll = async (): Promise<boolean> => {
    if (polling || !running || options.leadership?.isLeader() === false) return false;
    polling = true;
    try {
      if (Date.now() - lastSweep >= sweepMs) {
        lastSweep = Date.now();
        const expired = await handlers.expireChallenges();
        if (expired > 0) logger.info('expired challenges', { count: expired });
      }
      const due = await handlers.listDueDeliveries();
      const listed = new Set(due.map((entry) => entry.challenge_id));
      for (const id of handled.keys()) if (!listed.has(id)) handled.delete(id);
      const now = Date.now();
      for (const [id, until] of deferred) if (!listed.has(id) || until <= now) deferred.delete(id);
      for (const entry of due) {
        if (inFlight.size >= concurrency) break;
        const { challenge_id: id } = entry;
        if (!inFlight.has(id) && !deferred.has(id) && (entry.since === undefined || handled.get(id) !== entry.since)) deliver(entry);
      }
      return due.length > 0 || inFlight.size > 0;
    } catch (error) {
      logger.error('delivery poll failed', { error: error instanceof Error ? error.message : 'unknown' });
      return false;
    } finally {
      polling = false;
    }
  };

  let lastPollAt = -Infinity;
  let ticking: Promise<void> | undefined;
  const tick = async (): Promise<void> => {
    timer = undefined;
    kickedWhilePolling = false;
    lastPollAt = Date.now();
    const busy = await poll();
    delay = busy ? pollMs : Math.min(idlePollMs, delay * 2);
    schedule(kickedWhilePolling ? untilPollAllowed() : delay);
  };
  /** How long until `pollMs` has passed since the last poll began: kicks never poll more often than that. */
  const untilPollAllowed = (): number => Math.max(0, lastPollAt + pollMs - Date.now());

  const schedule = (after: number = delay): void => {
    if (!running || timer) return;
    timer = setTimeout(() => void (ticking = tick().finally(() => (ticking = undefined))), after);
  };

  return {
    start: () => {
      if (running) return;
      running = true;
      schedule();
    },
    stop: async () => {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      await ticking; // a poll under way may still start deliveries
      await Promise.all(inFlight.values());
    },
    underWay: () => inFlight.size,
    kick: () => {
      delay = pollMs; // the work kicked about may take a projection's delay to be listed
      // Every slot taken: the worker is busy and polls every pollMs anyway.
      if (!running || inFlight.size >= concurrency) return;
      if (!timer) {
        kickedWhilePolling = true; // the running poll reschedules after it ends
        return;
      }
      // Idle (the last poll began pollMs or more ago): at once; under a stream of kicks, at
      // most one poll per pollMs, as when busy.
      clearTimeout(timer);
      timer = undefined;
      schedule(untilPollAllowed());
    },
  };
};
