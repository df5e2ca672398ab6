import type { SealSigner } from '../ports.js';
import type { LogSealedData } from './log-seal.js';

export const MAX_PROBLEMS = 100;
/**
 * How far back a seal may point. A sealer seals what it read just before appending, so its seal
 * follows the sealed position by the few events appended meanwhile.
 */
export const RECENT_LINKS = 100_000;

/** What the replay gave at one position: the chain's value and event count there, and its time. */
export type ReplayedLink = { readonly chain: string; readonly count: number; readonly at: string };

export type LateSeal = { readonly position: number; readonly from: number; readonly span_s: number };

/**
 * The seal checks of a replay: each seal against what the replay gave at its `through` and
 * against its MAC, the events no valid seal covers yet and for how long, and the seals under
 * master keys no longer configured. Reports through `report`, in the order the replay meets them.
 */
export const trackSeals = (deps: { readonly signer: SealSigner }, maxUnsealed: number, report: (position: number, problem: string) => void) => {
  const lateSeals: LateSeal[] = [];
  let seals = 0;
  let sealed = { events: 0, through: 0 };
  // The events no valid seal covers yet, seals aside, oldest first: the oldest kept apart (it may
  // be older than anything remembered), the rest only as far back as a seal may point.
  let oldestUnsealed: { readonly position: number; readonly at: string } | undefined;
  const unsealed = new Map<number, string>();
  // Seals under keys not configured since the last valid seal: the first of them, and how far they reach.
  let unchecked: { count: number; first?: { readonly position: number; readonly keyId: string }; through: number } = { count: 0, through: 0 };
  let retiredKeySeals = 0;
  /** The previous seal's reach (valid or not): each seal a sealer writes covers more than the one before it. */
  let previousSeal: { readonly through: number; readonly count: number } | undefined;

  /** A seal that matches the log and carries a valid MAC, at `position`: what it covers is sealed. */
  const cover = (position: number, seal: LogSealedData) => {
    // The events this seal covers first were recorded over longer than events may go
    // unsealed while the log goes on: the seals that covered them were removed (and the log
    // perhaps changed under them) before a sealer sealed it all again. The longest pause
    // between them is left out: a crash, a long stop, then a seal at start over the few
    // events the crash left unsealed and the first ones after it is no alarm.
    let previous = oldestUnsealed && oldestUnsealed.position <= seal.through ? Date.parse(oldestUnsealed.at) : undefined;
    const first = previous;
    let last = previous;
    let longestPause = 0;
    for (const [unsealedPosition, recordedAt] of unsealed) {
      if (unsealedPosition > seal.through) break;
      const time = Date.parse(recordedAt);
      if (previous !== undefined) longestPause = Math.max(longestPause, time - previous);
      previous = last = time;
      unsealed.delete(unsealedPosition);
    }
    const span = first === undefined || last === undefined ? 0 : (last - first - longestPause) / 1000;
    // The first seal of a log covers everything before the sealer was first turned on.
    if (maxUnsealed && span > maxUnsealed && sealed.through > 0 && lateSeals.length < MAX_PROBLEMS)
      lateSeals.push({ position, from: oldestUnsealed!.position, span_s: Math.round(span) });
    sealed = { events: seal.count, through: seal.through };
    if (unchecked.count > 0 && seal.through >= unchecked.through) {
      retiredKeySeals += unchecked.count;
      unchecked = { count: 0, through: 0 };
    }
    const next = unsealed.entries().next();
    oldestUnsealed = next.done ? undefined : { position: next.value[0], at: next.value[1] };
  };

  return {
    /** A seal at `position`; `at`: what the replay gave at its `through`, if that is remembered. */
    seal: (position: number, seal: LogSealedData, at: ReplayedLink | undefined) => {
      seals += 1;
      // A sealer seals what it read before appending, past the seal before it: an older seal's
      // data in a newer seal's row (which would carry a valid MAC, and let a sealer restarted on
      // it re-seal whatever the log holds after it) covers no more than the seal before it.
      if (seal.through >= position) report(position, `seal covers position ${seal.through}, not before its own: a seal was altered`);
      if (previousSeal && (seal.through <= previousSeal.through || seal.count <= previousSeal.count))
        report(position, `seal covers up to position ${seal.through} (${seal.count} events), no more than the seal before it (${previousSeal.through}, ${previousSeal.count}): an older seal's data was copied into it`);
      previousSeal = { through: seal.through, count: seal.count };
      const mac = deps.signer.verify(seal, seal.key_id, seal.mac);
      if (mac === undefined) {
        unchecked.first ??= { position, keyId: seal.key_id };
        unchecked = { ...unchecked, count: unchecked.count + 1, through: Math.max(unchecked.through, seal.through) };
      } else if (!mac) report(position, `seal carries a wrong MAC: it was not made by this service, or MASTER_KEY is not the key the service seals with as "${seal.key_id}"`);
      if (!at) report(position, `seal refers to position ${seal.through}, which is not among the ${RECENT_LINKS} events before it`);
      else if (at.chain !== seal.chain || at.count !== seal.count) report(position, `seal does not match the log: an event at or before position ${seal.through} was changed, inserted or removed`);
      else if (mac) cover(position, seal);
    },
    /** Any other event: unsealed until a valid seal covers it. */
    event: (position: number, recordedAt: string) => {
      oldestUnsealed ??= { position, at: recordedAt };
      unsealed.set(position, recordedAt);
      if (unsealed.size > RECENT_LINKS) unsealed.delete(unsealed.keys().next().value as number);
    },
    /** Once the log is read: seals under keys not configured that no later valid seal covers. */
    reportUncoveredRetiredKeySeals: () => {
      if (unchecked.first)
        report(
          unchecked.first.position,
          `${unchecked.count === 1 ? 'seal' : `${unchecked.count} seals from here on,`} signed with master key "${unchecked.first.keyId}"${unchecked.count === 1 ? '' : ' or others'}, which is not configured, and no later seal under a configured key covers ${unchecked.count === 1 ? 'it' : 'them'}: ${unchecked.count === 1 ? 'its MAC' : 'their MACs'} cannot be checked`,
        );
    },
    /** Once the log is read, given the time of its last event: events unsealed for too long at the end. */
    reportUnsealedAtHead: (headAt: string | undefined) => {
      if (!maxUnsealed) return;
      // The first event the last valid seal does not cover, seals aside (a seal is always appended
      // after what it covers), however far back: a log with every seal removed has it at its start.
      const age = oldestUnsealed && headAt ? (Date.parse(headAt) - Date.parse(oldestUnsealed.at)) / 1000 : 0;
      if (age > maxUnsealed)
        report(oldestUnsealed!.position, `events from position ${oldestUnsealed!.position} on went unsealed for ${Math.round(age)} s while the log went on: seals were removed, or no sealer runs (LOG_SEAL_INTERVAL_S)`);
    },
    summary: () => ({ seals, sealed, lateSeals, retiredKeySeals }),
  };
};
