import type { LogChain, RecordedEvent, SealSigner } from '../ports.js';
import { isLogSeal, type LogSealedData } from './log-seal.js';

/** One finding; `position` is where it was seen (a seal's finding: the seal's own position). */
export type LogProblem = { readonly position: number; readonly problem: string };

export type LogVerification = {
  /** No problem found: every seal matches the log and carries a valid MAC, nothing is missing. */
  readonly ok: boolean;
  readonly events: number;
  /** Position of the last event (0 for an empty log). */
  readonly head: number;
  readonly seals: number;
  /** Events covered by the last valid seal; those after it are chained but vouched for by no seal yet. */
  readonly sealed_events: number;
  readonly sealed_through: number;
  readonly unsealed_events: number;
  /** The chain's value at `head`: keep it (with `head`) to check later that the log still holds it (`expect`). */
  readonly chain: string;
  readonly problems: readonly LogProblem[];
  /**
   * Seals (after the first) that covered events recorded over longer than events may go
   * unsealed, their longest pause aside: no sealer ran for that long (every worker down, the
   * sealer turned off), or the seals before them were removed. Not a problem by itself, since
   * an outage makes them too; the `problems` are what the log contradicts.
   */
  readonly late_seals: readonly { readonly position: number; readonly from: number; readonly span_s: number }[];
  /**
   * Seals signed with master keys no longer configured (retired once their data keys were
   * re-wrapped), whose MACs cannot be checked, each covered by a later valid seal: its chain runs
   * through what they sealed, so they vouch for nothing it does not. One that no valid seal
   * covers is a problem.
   */
  readonly retired_key_seals: number;
};

/** An event, with the chain value after it when it comes from an export. */
export type AuditedEvent = RecordedEvent & { readonly chain?: string };

export type VerifyLogOptions = {
  /** A chain value kept from an earlier verification: the log must still hold it at that position. */
  readonly expect?: { readonly position: number; readonly chain: string };
  /** The store numbers events 1, 2, 3… with no gaps (SQLite, PostgreSQL): a gap is an event removed. */
  readonly densePositions?: boolean;
  /**
   * Events may go unsealed this long while the log goes on (by the log's own times): longer
   * means seals were removed or no sealer runs. Undefined or 0: not checked.
   */
  readonly maxUnsealedSeconds?: number;
};

const MAX_PROBLEMS = 100;
/**
 * How far back a seal may point. A sealer seals what it read just before appending, so its seal
 * follows the sealed position by the few events appended meanwhile.
 */
const RECENT_LINKS = 100_000;

/**
 * Replays the log in position order, recomputing its chain, and reports what does not hold:
 * positions out of order or (dense stores) with a gap, a stream missing a revision (an event
 * removed), a seal whose chain value or count the log no longer gives (an event changed,
 * inserted or removed before it), a seal with a wrong MAC (forged), an export line whose chain
 * value differs, a missing anchor, events left unsealed too long.
 */
export const verifyLog = async (events: AsyncIterable<AuditedEvent>, deps: { readonly chain: LogChain; readonly signer: SealSigner }, options: VerifyLogOptions = {}): Promise<LogVerification> => {
  const problems: LogProblem[] = [];
  const report = (position: number, problem: string) => void (problems.length < MAX_PROBLEMS && problems.push({ position, problem }));
  const lateSeals: { position: number; from: number; span_s: number }[] = [];
  const nextRevision = new Map<string, number>();
  const recent = new Map<number, { readonly chain: string; readonly count: number; readonly at: string }>();
  let value = deps.chain.genesis;
  let count = 0;
  let head = 0;
  let seals = 0;
  let sealed = { events: 0, through: 0 };
  let anchorSeen = false;
  // The events no valid seal covers yet, seals aside, oldest first: the oldest kept apart (it may
  // be older than anything remembered), the rest only as far back as a seal may point.
  let oldestUnsealed: { readonly position: number; readonly at: string } | undefined;
  const unsealed = new Map<number, string>();
  const maxUnsealed = options.maxUnsealedSeconds ?? 0;
  // Seals under keys not configured since the last valid seal: the first of them, and how far they reach.
  let unchecked: { count: number; first?: { readonly position: number; readonly keyId: string }; through: number } = { count: 0, through: 0 };
  let retiredKeySeals = 0;

  for await (const event of events) {
    if (event.position <= head) report(event.position, `position ${event.position} does not follow ${head}`);
    else if (options.densePositions && event.position !== head + 1) report(event.position, `positions jump from ${head} to ${event.position}: events are missing`);
    const expected = nextRevision.get(event.stream) ?? 0;
    if (event.revision !== expected) report(event.position, `stream ${event.stream} jumps from revision ${expected - 1} to ${event.revision}: events are missing`);
    nextRevision.set(event.stream, event.revision + 1);

    if (isLogSeal(event)) {
      seals += 1;
      const seal = event.data as LogSealedData;
      const at = recent.get(seal.through);
      const mac = deps.signer.verify(seal, seal.key_id, seal.mac);
      if (mac === undefined) {
        unchecked.first ??= { position: event.position, keyId: seal.key_id };
        unchecked = { ...unchecked, count: unchecked.count + 1, through: Math.max(unchecked.through, seal.through) };
      } else if (!mac) report(event.position, 'seal carries a wrong MAC: it was not made by this service');
      if (!at) report(event.position, `seal refers to position ${seal.through}, which is not among the ${RECENT_LINKS} events before it`);
      else if (at.chain !== seal.chain || at.count !== seal.count) report(event.position, `seal does not match the log: an event at or before position ${seal.through} was changed, inserted or removed`);
      else if (mac) {
        // The events this seal covers first were recorded over longer than events may go
        // unsealed while the log goes on: the seals that covered them were removed (and the log
        // perhaps changed under them) before a sealer sealed it all again. The longest pause
        // between them is left out: a crash, a long stop, then a seal at start over the few
        // events the crash left unsealed and the first ones after it is no alarm.
        let previous = oldestUnsealed && oldestUnsealed.position <= seal.through ? Date.parse(oldestUnsealed.at) : undefined;
        const first = previous;
        let last = previous;
        let longestPause = 0;
        for (const [position, recordedAt] of unsealed) {
          if (position > seal.through) break;
          const time = Date.parse(recordedAt);
          if (previous !== undefined) longestPause = Math.max(longestPause, time - previous);
          previous = last = time;
          unsealed.delete(position);
        }
        const span = first === undefined || last === undefined ? 0 : (last - first - longestPause) / 1000;
        // The first seal of a log covers everything before the sealer was first turned on.
        if (maxUnsealed && span > maxUnsealed && sealed.through > 0 && lateSeals.length < MAX_PROBLEMS)
          lateSeals.push({ position: event.position, from: oldestUnsealed!.position, span_s: Math.round(span) });
        sealed = { events: seal.count, through: seal.through };
        if (unchecked.count > 0 && seal.through >= unchecked.through) {
          retiredKeySeals += unchecked.count;
          unchecked = { count: 0, through: 0 };
        }
        const next = unsealed.entries().next();
        oldestUnsealed = next.done ? undefined : { position: next.value[0], at: next.value[1] };
      }
    } else {
      oldestUnsealed ??= { position: event.position, at: event.recorded_at };
      unsealed.set(event.position, event.recorded_at);
      if (unsealed.size > RECENT_LINKS) unsealed.delete(unsealed.keys().next().value as number);
    }

    value = deps.chain.link(value, event);
    count += 1;
    head = event.position;
    if (event.chain !== undefined && event.chain !== value) report(event.position, 'chain value differs from the recomputed one: this or an earlier event was changed');
    if (options.expect?.position === event.position) {
      anchorSeen = true;
      if (options.expect.chain !== value) report(event.position, 'chain value differs from the one expected here: the log was rewritten up to this position');
    }
    recent.set(event.position, { chain: value, count, at: event.recorded_at });
    if (recent.size > RECENT_LINKS) recent.delete(recent.keys().next().value as number);
  }
  if (unchecked.first)
    report(
      unchecked.first.position,
      `${unchecked.count === 1 ? 'seal' : `${unchecked.count} seals from here on,`} signed with master key "${unchecked.first.keyId}"${unchecked.count === 1 ? '' : ' or others'}, which is not configured, and no later seal under a configured key covers ${unchecked.count === 1 ? 'it' : 'them'}: ${unchecked.count === 1 ? 'its MAC' : 'their MACs'} cannot be checked`,
    );
  if (options.expect && !anchorSeen) report(options.expect.position, `no event at position ${options.expect.position}: the log was truncated or rewritten`);
  if (maxUnsealed) {
    // The first event the last valid seal does not cover, seals aside (a seal is always appended
    // after what it covers), however far back: a log with every seal removed has it at its start.
    const headAt = recent.get(head)?.at;
    const age = oldestUnsealed && headAt ? (Date.parse(headAt) - Date.parse(oldestUnsealed.at)) / 1000 : 0;
    if (age > maxUnsealed)
      report(oldestUnsealed!.position, `events from position ${oldestUnsealed!.position} on went unsealed for ${Math.round(age)} s while the log went on: seals were removed, or no sealer runs (LOG_SEAL_INTERVAL_S)`);
  }

  return {
    ok: problems.length === 0,
    events: count,
    head,
    seals,
    sealed_events: sealed.events,
    sealed_through: sealed.through,
    unsealed_events: count - sealed.events,
    chain: value,
    problems,
    late_seals: lateSeals,
    retired_key_seals: retiredKeySeals,
  };
};
