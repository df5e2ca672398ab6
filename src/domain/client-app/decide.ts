import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { reject, type Rejection } from '../shared/rejection.js';
import { addSeconds, type Instant } from '../shared/time.js';
import type { ClientAppEvent } from './events.js';
import { applyPolicyPatch, defaultPolicy, type PolicyPatch } from './policy.js';
import type { ClientAppState } from './state.js';

export type RegisterApp = {
  readonly type: 'RegisterApp';
  readonly app_id: string;
  readonly owner_id: string;
  readonly name: string;
  readonly policy: PolicyPatch;
  readonly key_id: string;
  readonly key_hash: string;
  readonly at: Instant;
};
export type UpdateApp = {
  readonly type: 'UpdateApp';
  readonly actor_id: string;
  readonly name?: string;
  readonly policy?: PolicyPatch;
  readonly at: Instant;
};
export type RotateApiKey = {
  readonly type: 'RotateApiKey';
  readonly actor_id: string;
  readonly key_id: string;
  readonly key_hash: string;
  /** How long the replaced key keeps working (0..MAX_KEY_OVERLAP_SECONDS); 0: it stops at once. */
  readonly keep_previous_seconds?: number;
  readonly at: Instant;
};

/** The longest a replaced key may keep working: long enough to roll out a new key, no longer. */
export const MAX_KEY_OVERLAP_SECONDS = 86_400;
export type CloseApp = { readonly type: 'CloseApp'; readonly actor_id: string; readonly at: Instant };

export type ClientAppCommand = RegisterApp | UpdateApp | RotateApiKey | CloseApp;

type Decision = Either<Rejection, readonly ClientAppEvent[]>;

/** Another operator's app is indistinguishable from a missing one (tenant isolation). */
const notFound = (): Decision => left(reject('NOT_FOUND', 'App not found'));

export const decideClientApp = (command: ClientAppCommand, state: ClientAppState): Decision => {
  if (command.type === 'RegisterApp') {
    if (state.status !== 'NONE') return left(reject('ALREADY_EXISTS', 'App already exists'));
    const { app_id, owner_id, name, key_id, key_hash, at } = command;
    const policy = applyPolicyPatch(defaultPolicy, command.policy);
    if (policy._tag === 'Left') return policy;
    return right([
      { type: 'AppRegistered', data: { app_id, owner_id, name, policy: policy.right, at } },
      { type: 'ApiKeyIssued', data: { key_id, key_hash, at } },
    ]);
  }
  if (state.status !== 'ACTIVE' || state.owner_id !== command.actor_id) return notFound();
  const { at } = command;
  // A key a rotation left working ends with any later rotation or the app's close.
  const endRetiring: ClientAppEvent[] = state.retiring_key
    ? [{ type: 'ApiKeyRevoked', data: { key_id: state.retiring_key.key_id, key_hash: state.retiring_key.key_hash, at } }]
    : [];
  const revokeCurrent = (until?: Instant): ClientAppEvent[] =>
    state.api_key ? [{ type: 'ApiKeyRevoked', data: { ...state.api_key, at, ...(until === undefined ? {} : { until }) } }] : [];
  switch (command.type) {
    case 'UpdateApp': {
      const events: ClientAppEvent[] = [];
      if (command.name !== undefined && command.name !== state.name)
        events.push({ type: 'AppRenamed', data: { name: command.name, at } });
      if (command.policy !== undefined) {
        const policy = applyPolicyPatch(state.policy, command.policy);
        if (policy._tag === 'Left') return policy;
        if (JSON.stringify(policy.right) !== JSON.stringify(state.policy))
          events.push({ type: 'AppPolicyChanged', data: { policy: policy.right, at } });
      }
      return right(events);
    }
    case 'RotateApiKey': {
      // The HTTP edge refuses anything else; bounded here too, as the one rule's owner.
      const keep = Math.min(Math.max(0, Math.floor(command.keep_previous_seconds ?? 0)), MAX_KEY_OVERLAP_SECONDS);
      return right([
        ...endRetiring,
        ...revokeCurrent(keep > 0 ? addSeconds(at, keep) : undefined),
        { type: 'ApiKeyIssued', data: { key_id: command.key_id, key_hash: command.key_hash, at } },
      ]);
    }
    case 'CloseApp':
      return right([...endRetiring, ...revokeCurrent(), { type: 'AppClosed', data: { at } }]);
  }
};
