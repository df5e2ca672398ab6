/** The codec of every event type's `data`, keyed by type name, and decoding that names bad fields. */
import * as t from 'io-ts';
import type { Either } from 'fp-ts/lib/Either.js';
import { left, right } from 'fp-ts/lib/Either.js';
import type { LogSealed } from '../../application/audit/log-seal.js';
import type { AccountEvent } from '../../domain/account/events.js';
import type { ChallengeEvent } from '../../domain/challenge/events.js';
import type { SendRefused } from '../../domain/client-app/abuse.js';
import type { ClientAppEvent } from '../../domain/client-app/events.js';
import type { EnrollmentEvent } from '../../domain/enrollment/events.js';
import { accountEventCodecs } from './account.js';
import { challengeEventCodecs } from './challenge.js';
import { clientAppEventCodecs } from './client-app.js';
import type { CodecsMatch } from './codec-kit.js';
import { enrollmentEventCodecs } from './enrollment.js';
import { systemEventCodecs, type HashRootCreated } from './system.js';

export type StoredEvent = ClientAppEvent | AccountEvent | EnrollmentEvent | ChallengeEvent | HashRootCreated | SendRefused | LogSealed;
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
const issueOf = (error: t.ValidationError): FieldIssue => {
  const entries = error.context.filter((entry, i) => i > 0 && !isMemberKey(error.context[i - 1]));
  const path = entries.reduce((acc, { key }) => (/^\d+$/.test(key) ? `${acc}[${key}]` : `${acc}.${key}`), 'data');
  return { path, expected: error.message ?? entries.at(-1)?.type.name ?? error.context[0]?.type.name ?? 'valid data' };
};

/** Decodes `data` as the current version of `type`; Left lists every bad field once. */
export const decodeEventData = (type: StoredEventType, data: unknown): Either<readonly FieldIssue[], unknown> => {
  const codec: t.Decoder<unknown, unknown> = eventCodecs[type];
  const result = codec.decode(data);
  if (result._tag === 'Right') return right(result.right);
  const byPath = new Map(result.left.map(issueOf).map((issue) => [issue.path, issue]));
  return left([...byPath.values()]);
};
