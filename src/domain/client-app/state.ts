import type { Instant } from '../shared/time.js';
import type { ClientAppEvent } from './events.js';
import type { AppPolicy } from './policy.js';

export type ApiKeyRef = { readonly key_id: string; readonly key_hash: string };
export type RetiringKey = ApiKeyRef & { readonly until: Instant };

export type ClientAppState =
  | { readonly status: 'NONE' }
  | {
      readonly status: 'ACTIVE';
      readonly app_id: string;
      readonly owner_id: string;
      readonly name: string;
      readonly policy: AppPolicy;
      readonly created_at: Instant;
      readonly api_key: ApiKeyRef | null;
      /** The key a rotation replaced, still working until `until` (absent: none; snapshots before stop 38 have none). */
      readonly retiring_key?: RetiringKey;
    }
  | { readonly status: 'CLOSED'; readonly app_id: string; readonly owner_id: string };

export const initialClientAppState: ClientAppState = { status: 'NONE' };

export const evolveClientApp = (state: ClientAppState, event: ClientAppEvent): ClientAppState => {
  switch (event.type) {
    case 'AppRegistered':
      return {
        status: 'ACTIVE',
        app_id: event.data.app_id,
        owner_id: event.data.owner_id,
        name: event.data.name,
        policy: event.data.policy,
        created_at: event.data.at,
        api_key: null,
      };
    case 'AppRenamed':
      return state.status === 'ACTIVE' ? { ...state, name: event.data.name } : state;
    case 'AppPolicyChanged':
      return state.status === 'ACTIVE' ? { ...state, policy: event.data.policy } : state;
    case 'ApiKeyIssued':
      return state.status === 'ACTIVE'
        ? { ...state, api_key: { key_id: event.data.key_id, key_hash: event.data.key_hash } }
        : state;
    case 'ApiKeyRevoked': {
      if (state.status !== 'ACTIVE') return state;
      const { key_id, key_hash, until } = event.data;
      if (state.api_key?.key_id === key_id)
        return until === undefined ? { ...state, api_key: null } : { ...state, api_key: null, retiring_key: { key_id, key_hash, until } };
      if (state.retiring_key?.key_id === key_id) {
        const { retiring_key: _ended, ...rest } = state;
        return rest;
      }
      return state;
    }
    case 'AppClosed':
      return state.status === 'ACTIVE'
        ? { status: 'CLOSED', app_id: state.app_id, owner_id: state.owner_id }
        : state;
  }
};
