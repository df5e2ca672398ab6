import type { Challenge } from '../../domain/challenge/index.js';
import type { Deps } from '../deps.js';

/**
 * Destroys the data keys of a closed challenge's codes. The log keeps the sealed codes, but
 * without their keys they are noise: a code never outlives its challenge in readable form.
 */
export const shredCodes = async (deps: Pick<Deps, 'vault'>, challenge: Challenge): Promise<void> => {
  if (challenge.status === 'PENDING') return;
  await Promise.all(challenge.code_key_ids.map((keyId) => deps.vault.destroy(keyId)));
};
