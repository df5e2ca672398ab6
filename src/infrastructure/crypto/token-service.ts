import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Clock, TokenClaims, TokenService } from '../../application/ports.js';

export type TokenKey = { readonly alg: 'EdDSA'; readonly privateKeyPem: string; readonly publicKeyPem: string } | { readonly alg: 'HS256'; readonly secret: Buffer };

export type JoseTokenServiceOptions = {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly key: TokenKey;
  readonly clock?: Clock;
};

const MIN_HS256_SECRET_BYTES = 32;
/** A private claim: the account's password version when the token was issued. */
const PASSWORD_VERSION_CLAIM = 'pwv';

type Keys = { readonly sign: KeyObject | Uint8Array; readonly verify: KeyObject | Uint8Array };

const loadKeys = (key: TokenKey): Keys => {
  if (key.alg === 'HS256') {
    if (key.secret.length < MIN_HS256_SECRET_BYTES) throw new RangeError(`HS256 secret must be at least ${MIN_HS256_SECRET_BYTES} bytes`);
    const secret = new Uint8Array(key.secret);
    return { sign: secret, verify: secret };
  }
  const sign = createPrivateKey(key.privateKeyPem);
  const verify = createPublicKey(key.publicKeyPem);
  if (sign.asymmetricKeyType !== 'ed25519' || verify.asymmetricKeyType !== 'ed25519') throw new Error('EdDSA keys must be Ed25519');
  return { sign, verify };
};

export const createJoseTokenService = (options: JoseTokenServiceOptions): TokenService => {
  const { issuer, audience, ttlSeconds, key } = options;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError('ttlSeconds must be a positive integer');
  const clock = options.clock ?? (() => new Date());
  const keys = loadKeys(key);
  // Exactly the configured algorithm: never let the token header choose (alg:none, key confusion).
  const algorithms = [key.alg];

  return {
    issue: async (subject, passwordVersion = 0) => {
      const jti = randomUUID();
      const iat = Math.floor(clock().getTime() / 1000);
      const exp = iat + ttlSeconds;
      // The password version only once there is one: tokens of accounts that never changed
      // their password stay as they were (and as older builds issue them).
      const token = await new SignJWT(passwordVersion === 0 ? {} : { [PASSWORD_VERSION_CLAIM]: passwordVersion })
        .setProtectedHeader({ alg: key.alg, typ: 'JWT' })
        .setSubject(subject)
        .setJti(jti)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setIssuer(issuer)
        .setAudience(audience)
        .sign(keys.sign);
      return { token, jti, expires_at: new Date(exp * 1000), expires_in: ttlSeconds };
    },
    verify: async (token): Promise<TokenClaims | null> => {
      try {
        const { payload } = await jwtVerify(token, keys.verify, {
          algorithms,
          issuer,
          audience,
          currentDate: clock(),
          // Without it jose only checks that iat exists: this also refuses future and over-age iat.
          maxTokenAge: ttlSeconds,
          requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        });
        const { sub, jti, exp } = payload;
        const version = payload[PASSWORD_VERSION_CLAIM] ?? 0;
        if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') return null;
        if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return null;
        return { sub, jti, exp, password_version: version };
      } catch {
        return null;
      }
    },
  };
};

export const generateEd25519KeyPem = (): { privateKeyPem: string; publicKeyPem: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
};
