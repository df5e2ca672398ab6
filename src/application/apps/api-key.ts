import type { Deps } from '../deps.js';

/** A new API key: shown once to the operator; only its keyed hash is recorded. */
export const newApiKey = (deps: Pick<Deps, 'randomToken' | 'keyedHash' | 'newId'>) => {
  const key = `ak_${deps.randomToken(32)}`;
  return { key, key_id: deps.newId(), key_hash: deps.keyedHash('api-key', key) };
};
