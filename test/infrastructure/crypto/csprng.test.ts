/**
 * Codes, seeds, API keys and recovery codes come from the operating system's CSPRNG: node:crypto
 * is replaced by the real module with a randomBytes that records what it hands out (real bytes,
 * or bytes the test chooses), and every generator's output is checked against those bytes. A
 * generator on Math.random, or on anything but randomBytes, fails here; so does a service wired
 * with other generators.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import * as realCrypto from 'node:crypto';

const handedOut: Buffer[] = [];
let planted: Buffer | undefined;
const randomBytes = (size: number): Buffer => {
  const bytes = planted?.subarray(0, size) ?? realCrypto.randomBytes(size);
  planted = undefined;
  handedOut.push(Buffer.from(bytes));
  return bytes;
};
jest.unstable_mockModule('node:crypto', () => ({ ...realCrypto, default: { ...realCrypto, randomBytes }, randomBytes }));
const random = await import('../../../src/infrastructure/crypto/random.js');
const { createTotp } = await import('../../../src/infrastructure/otp/totp.js');
const { encodeBase32 } = await import('../../../src/infrastructure/otp/base32.js');
const { startTestServer } = await import('../../support/test-server.js');

const draw = <T>(bytes: Buffer, generate: () => T): T => {
  handedOut.length = 0;
  planted = bytes;
  const value = generate();
  expect(handedOut).toHaveLength(1);
  return value;
};

describe('secrets come from crypto.randomBytes', () => {
  it('draws sent-code digits from randomBytes, byte modulo 10, redrawing bytes of 250 and above', () => {
    const bytes = Buffer.from([7, 250, 13, 255, 0, 99, 42, 128, 3, 9]);
    expect(draw(bytes, () => random.randomDigits(6))).toBe('730928');
  });

  it('draws tokens (API keys, recovery codes) from randomBytes', () => {
    const bytes = realCrypto.randomBytes(32);
    expect(draw(bytes, () => random.randomToken(32))).toBe(bytes.toString('base64url'));
  });

  it('draws TOTP seeds of 20 bytes from randomBytes', () => {
    const bytes = realCrypto.randomBytes(20);
    expect(draw(bytes, () => createTotp().generateSecret())).toBe(encodeBase32(bytes));
  });

  it('wires the service with these generators', async () => {
    const server = await startTestServer({ inMemory: true });
    try {
      expect(server.service.deps.randomDigits).toBe(random.randomDigits);
      expect(server.service.deps.randomToken).toBe(random.randomToken);
      const seed = realCrypto.randomBytes(20);
      expect(draw(seed, () => server.service.deps.totp.generateSecret())).toBe(encodeBase32(seed));
    } finally {
      await server.close();
    }
  });

  it('uses Math.random in src only for the retry jitter of conflicting commands', () => {
    const src = join(import.meta.dirname, '..', '..', '..', 'src');
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
    const users = files(src).filter((file) => readFileSync(file, 'utf8').includes('Math.random'));
    expect(users.map((file) => file.slice(src.length + 1))).toEqual([join('application', 'handle-command.ts')]);
  });
});
