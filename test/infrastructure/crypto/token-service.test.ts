import { describe, expect, it } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { createJoseTokenService, generateEd25519KeyPem, type JoseTokenServiceOptions } from '../../../src/infrastructure/crypto/token-service.js';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const partsOf = (token: string) => {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return { header, payload, signature, claims: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown> };
};

const edKeys = generateEd25519KeyPem();
const start = new Date('2030-06-01T12:00:00Z');

const service = (overrides: Partial<JoseTokenServiceOptions> = {}, now: () => Date = () => start) =>
  createJoseTokenService({ issuer: 'https://otp.example', audience: 'otp-api', ttlSeconds: 900, key: { alg: 'EdDSA', ...edKeys }, clock: now, ...overrides });

describe('jose token service (EdDSA)', () => {
  const tokens = service();

  it('issues a token whose claims verify', async () => {
    const issued = await tokens.issue('app_123');
    expect(issued.expires_in).toBe(900);
    expect(issued.expires_at).toEqual(new Date(start.getTime() + 900_000));
    const { claims } = partsOf(issued.token);
    expect(claims).toEqual({
      sub: 'app_123',
      jti: issued.jti,
      iat: start.getTime() / 1000,
      exp: start.getTime() / 1000 + 900,
      iss: 'https://otp.example',
      aud: 'otp-api',
    });
    expect(JSON.parse(Buffer.from(partsOf(issued.token).header, 'base64url').toString())).toMatchObject({ alg: 'EdDSA' });
    expect(await tokens.verify(issued.token)).toEqual({ sub: 'app_123', jti: issued.jti, exp: start.getTime() / 1000 + 900, password_version: 0 });
  });

  it("names the account's password version once there is one (pwv), and reads it back", async () => {
    const issued = await tokens.issue('app_123', 3);
    expect(partsOf(issued.token).claims).toMatchObject({ sub: 'app_123', pwv: 3 });
    expect(await tokens.verify(issued.token)).toMatchObject({ sub: 'app_123', password_version: 3 });
    expect(partsOf((await tokens.issue('app_123', 0)).token).claims).not.toHaveProperty('pwv');
  });

  it('gives every token a unique random jti', async () => {
    const jtis = new Set(await Promise.all(Array.from({ length: 200 }, async () => (await tokens.issue('s')).jti)));
    expect(jtis.size).toBe(200);
  });

  it('rejects an unsigned alg:none token carrying valid claims', async () => {
    const { claims } = partsOf((await tokens.issue('app_123')).token);
    const forged = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims, sub: 'admin' })}.`;
    expect(await tokens.verify(forged)).toBeNull();
  });

  it('rejects a tampered payload and a tampered signature', async () => {
    const { header, payload, signature, claims } = partsOf((await tokens.issue('app_123')).token);
    expect(await tokens.verify(`${header}.${b64url({ ...claims, sub: 'app_999' })}.${signature}`)).toBeNull();
    const flipped = Buffer.from(signature, 'base64url');
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(await tokens.verify(`${header}.${payload}.${flipped.toString('base64url')}`)).toBeNull();
  });

  it('rejects key confusion: an HS256 token whose HMAC secret is the public key PEM', async () => {
    const { claims } = partsOf((await tokens.issue('app_123')).token);
    const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
    const mac = createHmac('sha256', edKeys.publicKeyPem).update(signingInput).digest('base64url');
    expect(await tokens.verify(`${signingInput}.${mac}`)).toBeNull();
  });

  it('rejects a token signed by another key', async () => {
    const other = service({ key: { alg: 'EdDSA', ...generateEd25519KeyPem() } });
    expect(await tokens.verify((await other.issue('app_123')).token)).toBeNull();
  });

  it('rejects an expired token, accepting it until exp', async () => {
    let now = start;
    const clocked = service({}, () => now);
    const { token } = await clocked.issue('app_123');
    now = new Date(start.getTime() + 899_000);
    expect(await clocked.verify(token)).not.toBeNull();
    now = new Date(start.getTime() + 900_000);
    expect(await clocked.verify(token)).toBeNull();
  });

  it('rejects a wrong audience or issuer', async () => {
    expect(await tokens.verify((await service({ audience: 'other-api' }).issue('s')).token)).toBeNull();
    expect(await tokens.verify((await service({ issuer: 'https://evil.example' }).issue('s')).token)).toBeNull();
  });

  it('returns null for garbage', async () => {
    for (const garbage of ['', 'abc', 'a.b.c', '...', 'e30.e30.']) expect(await tokens.verify(garbage)).toBeNull();
  });

  it('refuses non-Ed25519 keys', () => {
    expect(() => service({ key: { alg: 'EdDSA', privateKeyPem: 'not a pem', publicKeyPem: edKeys.publicKeyPem } })).toThrow();
  });
});

describe('jose token service (HS256)', () => {
  const secret = randomBytes(32);
  const tokens = service({ key: { alg: 'HS256', secret } });

  it('issues and verifies', async () => {
    const issued = await tokens.issue('app_1');
    expect(JSON.parse(Buffer.from(partsOf(issued.token).header, 'base64url').toString())).toMatchObject({ alg: 'HS256' });
    expect(await tokens.verify(issued.token)).toMatchObject({ sub: 'app_1', jti: issued.jti });
  });

  it('rejects another secret, an EdDSA token, and alg:none', async () => {
    expect(await tokens.verify((await service({ key: { alg: 'HS256', secret: randomBytes(32) } }).issue('s')).token)).toBeNull();
    expect(await tokens.verify((await service().issue('s')).token)).toBeNull();
    const { claims } = partsOf((await tokens.issue('s')).token);
    expect(await tokens.verify(`${b64url({ alg: 'none' })}.${b64url(claims)}.`)).toBeNull();
  });

  it.each(['HS384', 'HS512'])('rejects an %s token signed with the same secret and valid claims (algorithm allow-list)', async (alg) => {
    const { claims } = partsOf((await tokens.issue('app_1')).token);
    const forged = await new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new Uint8Array(secret));
    expect(JSON.parse(Buffer.from(partsOf(forged).header, 'base64url').toString())).toMatchObject({ alg });
    expect(await tokens.verify(forged)).toBeNull();
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => service({ key: { alg: 'HS256', secret: randomBytes(16) } })).toThrow(/32 bytes/);
  });
});
