/**
 * The keys the service runs with: from the environment, or (embedded default only) generated
 * once into DATA_DIR.
 */
import type { ServiceOptions } from '../../infrastructure/composition-root.js';
import type { Config } from '../../infrastructure/config/config.js';
import { loadOrCreateDevSecrets } from '../../infrastructure/config/dev-secrets.js';
import type { TokenKey } from '../../infrastructure/crypto/token-service.js';
import type { Logger } from '../../application/ports.js';

/** The current master key under its configured id, then every earlier one. */
export const masterKeysOf = (config: Config, current: Buffer): ServiceOptions['masterKeys'] => [{ id: config.masterKeyId, key: current }, ...config.previousMasterKeys];

/** Keys from the environment, or (embedded default only) generated once into DATA_DIR. */
export const resolveKeys = async (config: Config, logger: Logger): Promise<Pick<ServiceOptions, 'masterKeys' | 'jwt'>> => {
  const dev = config.masterKey && (config.jwtSecret || config.jwtPrivateKey) ? undefined : await loadOrCreateDevSecrets(config.dataDir, logger);
  const masterKey = config.masterKey ?? dev!.masterKey;
  let key: TokenKey;
  if (config.jwtSecret) key = { alg: 'HS256', secret: config.jwtSecret };
  else if (config.jwtPrivateKey && config.jwtPublicKey) key = { alg: 'EdDSA', privateKeyPem: config.jwtPrivateKey, publicKeyPem: config.jwtPublicKey };
  else key = { alg: 'EdDSA', privateKeyPem: dev!.jwtPrivateKeyPem, publicKeyPem: dev!.jwtPublicKeyPem };
  return {
    masterKeys: masterKeysOf(config, masterKey),
    jwt: { issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds: config.accessTokenExpireMinutes * 60, key },
  };
};
