/**
 * Pure translations between our EventStore port and the KurrentDB client: expected revisions,
 * global positions, error classification, connection strings. Event shapes: kurrentdb-events.ts.
 */
import {
  ANY,
  CancelledError,
  DeadlineExceededError,
  NO_STREAM,
  NotLeaderError,
  START,
  TimeoutError,
  UnavailableError,
  type AppendStreamState,
  type CurrentStreamState,
  type ReadPosition,
} from '@kurrent/kurrentdb-client';
import { WrongExpectedRevision, type ExpectedRevision } from '../../application/ports.js';

export const toStreamState = (expected: ExpectedRevision): AppendStreamState => {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`Invalid expected revision: ${String(expected)}`);
  return BigInt(expected);
};

const toSafeNumber = (value: bigint, what: string): number => {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`KurrentDB ${what} ${value} is outside 0..Number.MAX_SAFE_INTEGER`);
  }
  return Number(value);
};

export const toRevision = (revision: bigint): number => toSafeNumber(revision, 'stream revision');

export const fromCurrentState = (actual: CurrentStreamState): number | 'no_stream' =>
  actual === NO_STREAM ? 'no_stream' : toRevision(actual);

export const toWrongExpectedRevision = (stream: string, expected: ExpectedRevision, actual: CurrentStreamState): WrongExpectedRevision =>
  new WrongExpectedRevision(stream, expected, fromCurrentState(actual));

/** What the server sends for "no position": -1 as an unsigned 64-bit integer. */
const NO_POSITION = 2n ** 64n - 1n;

/**
 * Our global position is KurrentDB's commit position: the byte offset of the event's record in
 * the transaction log. Every event appended over gRPC is committed in place, so its commit (and
 * prepare) position is its own record's offset: unique, and increasing in $all order. Offsets
 * only grow (scavenging never reuses them), but passing 2^53 bytes means writing 9 PB to one
 * log, about 285 years at a sustained 1 MB/s, so a JS number holds it for any realistic log.
 * Should it ever not, we fail loudly rather than round to a wrong, possibly repeated position.
 * (Explicit transactions of the retired TCP API gave all their events one commit position; this
 * store never writes them, and logs holding them under its prefix are not supported.)
 */
export const toGlobalPosition = (commit: bigint | undefined): number => {
  if (commit === undefined || commit === NO_POSITION || commit === -1n) {
    throw new Error('KurrentDB returned no log position for an event (stream reads need KurrentDB/EventStoreDB 22.6 or later)');
  }
  if (commit > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`KurrentDB commit position ${commit} exceeds Number.MAX_SAFE_INTEGER; this adapter cannot represent it exactly`);
  }
  return toSafeNumber(commit, 'commit position');
};

/**
 * `after` is always 0 or a position we handed out; those are record boundaries where commit and
 * prepare positions are equal. The first record of every log is a system epoch record, so no
 * user event sits at 0 and "after 0" is the start of the log.
 */
export const toReadPosition = (after: number): ReadPosition => {
  if (!Number.isSafeInteger(after) || after < 0) throw new RangeError(`Invalid global position: ${String(after)}`);
  if (after === 0) return START;
  return { commit: BigInt(after), prepare: BigInt(after) };
};

/** Failures that mean "the database is unreachable right now", worth a retry or a 503. */
export const isUnavailable = (error: unknown): boolean =>
  error instanceof UnavailableError ||
  error instanceof DeadlineExceededError ||
  error instanceof TimeoutError ||
  error instanceof NotLeaderError ||
  error instanceof CancelledError ||
  // Raw gRPC errors (the client does not wrap every path): 4 DEADLINE_EXCEEDED, 14 UNAVAILABLE.
  (error instanceof Error && [4, 14].includes((error as { code?: unknown }).code as number));

/** The client prints a deprecation warning for esdb:// schemes; they mean the same thing. */
export const normalizeConnectionString = (connectionString: string): string =>
  connectionString.trim().replace(/^esdb(\+discover)?:\/\//i, (_, discover: string | undefined) => `kurrentdb${discover ?? ''}://`);
