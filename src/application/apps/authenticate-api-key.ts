import { clientAppStream } from '../../domain/client-app/index.js';
import { ClientAppAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import { loadState } from '../handle-command.js';
import type { ActiveApp } from './app-view.js';

/**
 * The app an API key belongs to, or null. The index finds the candidate; the app's own stream
 * confirms the key is still its current one, so a rotated or deleted key fails at once.
 */
export const makeAuthenticateApiKey = (deps: Pick<Deps, 'store' | 'readModels' | 'keyedHash' | 'safeEqual'>) => {
  // A key hash belongs to one app forever, so the index answer can be remembered; whether the
  // key is still that app's current one is always read from the app's stream.
  const appOfKey = new Map<string, string>();
  return async (key: string): Promise<ActiveApp | null> => {
    const hash = deps.keyedHash('api-key', key);
    let appId = appOfKey.get(hash);
    if (appId === undefined) {
      const entry = await deps.readModels.get('api_keys', hash);
      if (typeof entry?.app_id !== 'string') return null;
      appId = entry.app_id;
      if (appOfKey.size >= 10_000) appOfKey.delete(appOfKey.keys().next().value!);
      appOfKey.set(hash, appId);
    }
    const state = await loadState(deps.store, ClientAppAggregate, clientAppStream(appId));
    if (state.status !== 'ACTIVE' || state.api_key === null) return null;
    return deps.safeEqual(state.api_key.key_hash, hash) ? state : null;
  };
};
