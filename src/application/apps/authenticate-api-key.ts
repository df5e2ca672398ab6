import { clientAppStream } from '../../domain/client-app/index.js';
import { ClientAppAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import { loadState } from '../handle-command.js';
import type { ActiveApp } from './app-view.js';

/**
 * The app an API key belongs to, or null. The index finds the candidate; the app's own stream
 * confirms the key is still its current one, so a rotated or deleted key fails at once.
 */
export const makeAuthenticateApiKey =
  (deps: Pick<Deps, 'store' | 'readModels' | 'keyedHash' | 'safeEqual'>) =>
  async (key: string): Promise<ActiveApp | null> => {
    const hash = deps.keyedHash('api-key', key);
    const entry = await deps.readModels.get('api_keys', hash);
    if (typeof entry?.app_id !== 'string') return null;
    const state = await loadState(deps.store, ClientAppAggregate, clientAppStream(entry.app_id));
    if (state.status !== 'ACTIVE' || state.api_key === null) return null;
    return deps.safeEqual(state.api_key.key_hash, hash) ? state : null;
  };
