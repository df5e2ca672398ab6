import type { SealedSecret } from '../../domain/shared/sealed.js';
import type { Deps } from '../deps.js';

/**
 * Destroys the data key of a factor's seed or destination once the log says the factor no
 * longer uses it (replaced by a new start, or disabled): the log keeps the sealed value, which
 * without its key is noise, as a closed challenge's codes are (shred-codes.ts). Called after
 * the append, never before: a verification deciding on the older state meanwhile finds its key
 * gone, and its append then loses to the one recorded, so it decides again on the new state.
 * A failure to destroy is logged, not answered: what was asked is recorded; the key then stays,
 * as every such key did before stop 37.
 */
export const shredSealed = async (deps: Pick<Deps, 'vault' | 'logger'>, ...sealed: readonly (SealedSecret | undefined)[]): Promise<void> => {
  await Promise.all(
    sealed.map(async (secret) => {
      if (secret === undefined) return;
      try {
        await deps.vault.destroy(secret.key_id);
      } catch (error) {
        deps.logger.warn('a data key no longer used could not be destroyed', { key_id: secret.key_id, error: error instanceof Error ? error.name : typeof error });
      }
    }),
  );
};
