import type { LogChain, RecordedEvent, SealSigner } from '../ports.js';
import { isLogSeal, SEAL_STREAM, type LogSealedData } from './log-seal.js';
import { MAX_PROBLEMS, RECENT_LINKS, trackSeals, type ReplayedLink } from './verify-seals.js';

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
  const nextRevision = new Map<string, number>();
  const recent = new Map<number, ReplayedLink>();
  let value = deps.chain.genesis;
  let count = 0;
  let head = 0;
  let anchorSeen = false;
  const sealChecks = trackSeals(deps, options.maxUnsealedSeconds ?? 0, report);

  for await (const event of events) {
    if (options.densePositions && event.position < 1)
      report(event.position, `a row at position ${event.position}, below the first (1): written behind the service's back, which reads it by its stream`);
    else if (event.position <= head) report(event.position, `position ${event.position} does not follow ${head}: events were reordered or inserted`);
    else if (options.densePositions && event.position !== head + 1) report(event.position, `positions jump from ${head} to ${event.position}: events are missing`);
    const expected = nextRevision.get(event.stream) ?? 0;
    if (event.revision > expected) report(event.position, `stream ${event.stream} jumps from revision ${expected - 1} to ${event.revision}: events are missing`);
    else if (event.revision < expected)
      report(event.position, `stream ${event.stream} goes back from revision ${expected - 1} to ${event.revision}: events were reordered or copied`);
    nextRevision.set(event.stream, Math.max(expected, event.revision + 1));

    if (event.type === 'LogSealed' && event.stream !== SEAL_STREAM)
      report(event.position, `LogSealed on stream ${event.stream}, where seals are never written (only on ${SEAL_STREAM}): a seal was moved`);
    if (isLogSeal(event)) {
      const seal = event.data as LogSealedData;
      sealChecks.seal(event.position, seal, recent.get(seal.through));
    } else {
      // Only seals are appended there: anything else is a seal whose type was changed, which
      // would otherwise just stop counting (the newest one unnoticed, as if removed).
      if (event.stream === SEAL_STREAM) report(event.position, `${event.type} on ${SEAL_STREAM}, where only LogSealed is written: a seal was altered`);
      sealChecks.event(event.position, event.recorded_at);
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
  sealChecks.reportUncoveredRetiredKeySeals();
  if (options.expect && !anchorSeen) report(options.expect.position, `no event at position ${options.expect.position}: the log was truncated or rewritten`);
  sealChecks.reportUnsealedAtHead(recent.get(head)?.at);

  const { seals, sealed, lateSeals, retiredKeySeals } = sealChecks.summary();
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
