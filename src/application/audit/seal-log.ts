import type { EventStore, LogChain, SealBody, SealSigner, SnapshotStore } from '../ports.js';
import { WrongExpectedRevision } from '../ports.js';
import { logEvents } from './log-events.js';
import { SEAL_STREAM, type LogSealed, type LogSealedData } from './log-seal.js';

export type SealLogResult = { readonly sealed: false } | { readonly sealed: true; readonly through: number; readonly count: number; readonly position: number };

/** The last seal: where the chain stands and which revision of the seal stream holds it. */
type Tip = { readonly revision: number; readonly through: number; readonly count: number; readonly chain: string };

/**
 * Thrown when the seals cannot be trusted (the last one's MAC is wrong, or seals were removed):
 * the log was tampered with or cut back, and nothing is sealed over it.
 */
export class ForgedLogSeal extends Error {
  override readonly name = 'ForgedLogSeal';
}

const CUT_BACK =
  'The seal stream holds fewer seals than were written: seals were removed, or the log was restored from a backup. Not sealing: run "audit verify"; after a restore, remove the seal stream\'s snapshot (snapshots.sqlite, or its row in table snapshots)';
const SNAPSHOT_VERSION = 'log-seal-tip-1';

/**
 * Seals what was appended since the last seal: chains those events on from its value and appends
 * a `LogSealed` expecting the seal stream where the last seal left it, so two sealers never both
 * seal (the loser reads the winner's seal and goes on from there). Nothing new but seals: no
 * seal. `log` is the raw store, so the chain covers events as stored, not as upcast on reading.
 */
export const makeSealLog = (deps: { readonly log: EventStore; readonly chain: LogChain; readonly signer: SealSigner; readonly snapshots?: SnapshotStore }) => {
  const { log, chain, signer, snapshots } = deps;
  const genesis: Tip = { revision: -1, through: 0, count: 0, chain: chain.genesis };

  /** The newest seal from `fromRevision` on, checked; `undefined` when there is none that recent. */
  const newestSeal = async (fromRevision: number): Promise<Tip | undefined> => {
    const last = (await log.readStream(SEAL_STREAM, { fromRevision })).at(-1);
    if (!last) return undefined;
    const data = last.data as LogSealedData;
    const valid = signer.verify(data, data.key_id, data.mac);
    // A key this process lacks: a newer process rotated the master key (this one has not got it yet).
    if (valid === undefined) throw new Error(`The log seal at position ${last.position} is signed with master key "${data.key_id}", which this process does not have`);
    if (!valid) throw new ForgedLogSeal(`The log seal at position ${last.position} does not carry a valid MAC`);
    return { revision: last.revision, through: data.through, count: data.count, chain: data.chain };
  };

  // The seal stream grows by one event per seal: a pointer to its tail saves reading it whole.
  // The pointer is tagged by the service (sealed snapshots), so one naming a seal the stream no
  // longer holds means seals were removed: refuse, rather than seal whatever the log holds now.
  // It also keeps what that seal covered (since stop 35): a seal row the pointer names whose data
  // was replaced with an older seal's (a valid MAC still) would have the sealer chain on from
  // the older point and seal over whatever the log was made to hold after it.
  const startingTip = async (): Promise<Tip> => {
    const pointer = await snapshots?.load(SEAL_STREAM);
    if (pointer?.version === SNAPSHOT_VERSION) {
      const [event] = await log.readStream(SEAL_STREAM, { fromRevision: pointer.revision });
      if (event?.id !== pointer.event_id) throw new ForgedLogSeal(`${CUT_BACK} (the seal at revision ${pointer.revision} is gone)`);
      const kept = pointer.state as Partial<SealBody>;
      const data = event.data as Partial<SealBody>;
      if (kept.chain !== undefined && (data.through !== kept.through || data.count !== kept.count || data.chain !== kept.chain))
        throw new ForgedLogSeal(`The log seal at position ${event.position} no longer holds what it sealed: seals were altered. Not sealing: run "audit verify"`);
      return (await newestSeal(pointer.revision)) ?? genesis;
    }
    return (await newestSeal(0)) ?? genesis;
  };

  let tip: Tip | undefined;
  return async (): Promise<SealLogResult> => {
    let from = (tip ??= await startingTip());
    for (let attempt = 0; attempt < 5; attempt++) {
      let { chain: value, count, through }: Tip = from;
      let news = 0;
      for await (const event of logEvents(log, through)) {
        value = chain.link(value, event);
        count += 1;
        through = event.position;
        if (event.stream !== SEAL_STREAM) news += 1;
      }
      if (news === 0) return { sealed: false };
      const body: SealBody = { through, count, chain: value };
      const seal: LogSealed = { type: 'LogSealed', data: { ...body, ...signer.sign(body) } };
      try {
        const appended = await log.append(SEAL_STREAM, [seal], from.revision < 0 ? 'no_stream' : from.revision);
        tip = { revision: appended.revision, ...body };
        const [event] = await log.readStream(SEAL_STREAM, { fromRevision: appended.revision });
        if (event) await snapshots?.save({ stream: SEAL_STREAM, revision: event.revision, event_id: event.id, version: SNAPSHOT_VERSION, state: body });
        return { sealed: true, through, count, position: appended.position };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevision)) throw error;
        // Another process sealed first: go on from its seal. Fewer seals than this process has
        // seen: they were removed.
        const newer = error.actual !== 'no_stream' && error.actual > from.revision ? await newestSeal(from.revision + 1) : undefined;
        if (!newer) {
          tip = undefined; // the next round starts over from the pointer, which an operator may have removed
          throw new ForgedLogSeal(`${CUT_BACK} (it was at revision ${from.revision}, it is at ${String(error.actual)})`);
        }
        tip = from = newer;
      }
    }
    return { sealed: false };
  };
};

export type SealLog = ReturnType<typeof makeSealLog>;
