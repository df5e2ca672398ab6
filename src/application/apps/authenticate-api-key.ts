import { clientAppStream, type ClientAppState } from '../../domain/client-app/index.js';
import { ClientAppAggregate } from '../aggregates.js';
import { now, type Deps } from '../deps.js';
import type { ActiveApp } from './app-view.js';

/**
 * The app an API key belongs to, or null. The index finds the candidate; the app's own stream
 * confirms the key is still its current one. A rotated or deleted key fails at once in the
 * process that changed it, and in the others once their view of the app is older than
 * `appStalenessMs` (0: the stream is read on every request); a key is refused only after a
 * fresh read, so a newly issued key works everywhere at once. A key a rotation left working
 * (`keep_previous_seconds`) works until its `until`, by this process's clock.
 */
export const makeAuthenticateApiKey = (deps: Pick<Deps, 'loadRecent' | 'appStalenessMs' | 'readModels' | 'keyedHash' | 'safeEqual' | 'clock'>) => {
  // A key hash belongs to one app forever, so the index answer can be remembered; whether the
  // key is still that app's current one comes from the app's stream.
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
    const stream = clientAppStream(appId);
    /** The app when `state` says the key works; 'over' when it was a kept key whose overlap has ended; else null. */
    const standing = (state: ClientAppState): ActiveApp | 'over' | null => {
      if (state.status !== 'ACTIVE') return null;
      if (state.api_key !== null && deps.safeEqual(state.api_key.key_hash, hash)) return state;
      // A key a rotation left working for a while (keep_previous_seconds).
      if (state.retiring_key !== undefined && deps.safeEqual(state.retiring_key.key_hash, hash)) return now(deps) < state.retiring_key.until ? state : 'over';
      return null;
    };
    const recent = standing(await deps.loadRecent(ClientAppAggregate, stream, deps.appStalenessMs));
    // A kept key past its overlap stays in the index, and never works again (a key is never
    // issued twice): refused without reading the stream afresh, which a forgotten client still
    // sending it would otherwise cost on every request.
    if (recent !== null) return recent === 'over' ? null : recent;
    // Refuse only on current state: a key just issued through another process works at once.
    const current = standing(await deps.loadRecent(ClientAppAggregate, stream, 0));
    return current === 'over' ? null : current;
  };
};
