/** The codec of every event type's `data`, keyed by type name, and decoding that names bad fields. */
import * as t from 'io-ts';
import type { Either } from 'fp-ts/lib/Either.js';
import { left, right } from 'fp-ts/lib/Either.js';
import type { LogSealed } from '../../application/audit/log-seal.js';
import type { DataKeysRewrapped } from '../../application/keys/rewrap-data-keys.js';
import type { AccountEvent } from '../../domain/account/events.js';
import type { ChallengeEvent } from '../../domain/challenge/events.js';
import type { SendRefused } from '../../domain/client-app/abuse.js';
import type { ClientAppEvent } from '../../domain/client-app/events.js';
import type { EnrollmentEvent } from '../../domain/enrollment/events.js';
import { accountEventCodecs } from './account.js';
import { challengeEventCodecs } from './challenge.js';
import { clientAppEventCodecs } from './client-app.js';
import { NullableType, UNKNOWN_FIELD, type CodecsMatch } from './codec-kit.js';
import { enrollmentEventCodecs } from './enrollment.js';
import { systemEventCodecs, type HashRootCreated } from './system.js';

export type StoredEvent = ClientAppEvent | AccountEvent | EnrollmentEvent | ChallengeEvent | HashRootCreated | SendRefused | LogSealed | DataKeysRewrapped;
export type StoredEventType = StoredEvent['type'];

export const eventCodecs = {
  ...clientAppEventCodecs,
  ...accountEventCodecs,
  ...enrollmentEventCodecs,
  ...challengeEventCodecs,
  ...systemEventCodecs,
};

// Also catches one aggregate's event name shadowing another's in the spread above.
const _check: CodecsMatch<StoredEvent, typeof eventCodecs> = true;

export const isStoredEventType = (type: string): type is StoredEventType => Object.hasOwn(eventCodecs, type);

/** One failing field: where (e.g. `data.policy.totp.digits`) and what was expected. Never the value. */
export type FieldIssue = { readonly path: string; readonly expected: string };

const isMemberKey = (parent: t.ContextEntry | undefined): boolean =>
  parent?.type instanceof t.UnionType || parent?.type instanceof t.IntersectionType;

// Union and intersection members show up in the context as "0", "1": not fields.
const fieldEntries = (error: t.ValidationError): readonly t.ContextEntry[] =>
  error.context.filter((entry, i) => i > 0 && !isMemberKey(error.context[i - 1]));

const fieldKeys = (error: t.ValidationError): readonly string[] => fieldEntries(error).map(({ key }) => key);

const issueOf = (error: t.ValidationError): FieldIssue => {
  const entries = fieldEntries(error);
  const path = entries.reduce((acc, { key }) => (/^\d+$/.test(key) ? `${acc}[${key}]` : `${acc}.${key}`), 'data');
  return { path, expected: error.message ?? entries.at(-1)?.type.name ?? error.context[0]?.type.name ?? 'valid data' };
};

const issuesOf = (errors: t.Errors): readonly FieldIssue[] => {
  const byPath = new Map(errors.map(issueOf).map((issue) => [issue.path, issue]));
  return [...byPath.values()];
};

/** Decodes `data` as the current version of `type`; Left lists every bad field once. */
export const decodeEventData = (type: StoredEventType, data: unknown): Either<readonly FieldIssue[], unknown> => {
  const result = eventCodecs[type].decode(data);
  return result._tag === 'Right' ? right(result.right) : left(issuesOf(result.left));
};

/** A copy of `value` without the field at `keys` (object keys and array indices), copying only along the way. */
const without = (value: unknown, [key, ...rest]: readonly string[]): unknown => {
  if (key === undefined || typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...value };
  if (rest.length > 0) copy[key] = without(copy[key], rest);
  else if (!Array.isArray(value)) delete copy[key];
  return copy;
};

const NOTHING_IGNORED: readonly string[] = [];

/**
 * A field to leave out: one `strictObject` does not list, reached through objects, records and
 * arrays only. Inside a union a member's unknown field may be another member's known one, so
 * such an event is refused as before (no event codec has a union yet).
 */
const leavable = (error: t.ValidationError): boolean =>
  error.message === UNKNOWN_FIELD && !error.context.some((_, i) => i > 0 && isMemberKey(error.context[i - 1]));

/** The path a warning names: record keys and array indices as `*`, so each field is reported once. */
const fieldPattern = (error: t.ValidationError): string =>
  error.context.slice(1).reduce((acc, { key }, i) => {
    const parent = error.context[i]?.type;
    const container = parent instanceof NullableType ? parent.inner : parent;
    if (container instanceof t.DictionaryType) return `${acc}.*`;
    return /^\d+$/.test(key) ? `${acc}[*]` : `${acc}.${key}`;
  }, 'data');

/**
 * `data` decoded by `codec` as a tolerant reader: fields it does not know (a newer build added
 * them) are left out of the result and their paths listed in `ignored`, so old and new builds
 * can share a log during a rolling upgrade. Everything else is checked as strictly as on
 * append: a known field that is missing or wrong is refused, with the unknown ones listed
 * beside it. The stored object is not changed.
 */
export const decodeTolerantly = (
  codec: t.Decoder<unknown, unknown>,
  data: unknown,
): Either<readonly FieldIssue[], { readonly data: unknown; readonly ignored: readonly string[] }> => {
  const result = codec.decode(data);
  if (result._tag === 'Right') return right({ data: result.right, ignored: NOTHING_IGNORED });
  if (!result.left.every(leavable)) return left(issuesOf(result.left));
  const known = codec.decode(result.left.reduce((acc, error) => without(acc, fieldKeys(error)), data));
  return known._tag === 'Right' ? right({ data: known.right, ignored: [...new Set(result.left.map(fieldPattern))] }) : left(issuesOf(known.left));
};

/** Stored `data` of `type`, read tolerantly (decodeTolerantly). */
export const readEventData = (type: StoredEventType, data: unknown) => decodeTolerantly(eventCodecs[type], data);
