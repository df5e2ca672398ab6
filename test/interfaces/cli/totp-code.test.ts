import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createTotp } from '../../../src/infrastructure/otp/totp.js';
import { totpCommand } from '../../../src/interfaces/cli/totp-code.js';

const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890", RFC 6238's SHA1 seed
const now = new Date(59_000);

/** Runs the command, returning its exit code and what it wrote. */
const run = (...args: string[]): { code: number; stdout: string; stderr: string } => {
  const written = { stdout: '', stderr: '' };
  const writes = [process.stdout.write, process.stderr.write] as const;
  process.stdout.write = ((chunk: string) => ((written.stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((written.stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: totpCommand(args), ...written };
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
  }
};

describe('totp command', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('prints the current code, SHA1, 6 digits and 30 s by default', () => {
    expect(run(secret)).toEqual({ code: 0, stdout: '287082\n', stderr: '' });
    expect(run(secret, '8', '30', 'SHA1')).toEqual({ code: 0, stdout: '94287082\n', stderr: '' });
  });

  it('takes the algorithm in any case, and the secret as the service does (any case, spaces, padding)', () => {
    const expected = `${createTotp().generate(secret, { digits: 8, period: 60, algorithm: 'SHA256' }, now)}\n`;
    for (const algorithm of ['SHA256', 'sha256', 'Sha256']) expect(run(secret, '8', '60', algorithm)).toEqual({ code: 0, stdout: expected, stderr: '' });
    expect(run('gezd gnbv gy3t qojq gezd gnbv gy3t qojq====', '8', '60', 'sha256')).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  // These threw a TypeError (algorithm, secret) or printed a code no enrollment can have.
  it.each([
    [[secret, '6', '30', 'sha3'], /^totp: algorithm must be SHA1, SHA256, SHA512; usage: totp /],
    [[secret, '6', '30', 'md5'], /^totp: algorithm must be /],
    [[secret, '7'], /^totp: digits must be 6 or 8; usage: /],
    [[secret, '6.0'], /^totp: digits must be 6 or 8; /],
    [[secret, ' 8'], /^totp: digits must be 6 or 8; /],
    [[secret, 'eight'], /^totp: digits must be 6 or 8; /],
    [[secret, '6', '45'], /^totp: period must be 30 or 60; /],
    [[secret, '6', '0x1e'], /^totp: period must be 30 or 60; /],
    [['JBSWY3DPEHPK3PXP'], /^totp: the secret must be base32 of at least 20 bytes \(32 characters\); /], // 10 bytes
    [['GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1'], /^totp: the secret must be base32 /], // 1 is not base32
    [[''], /^totp: the secret must be base32 /],
    [[secret, '6', '30', 'SHA1', 'extra'], /^totp: 5 arguments, at most 4; /],
  ])('refuses %j with one line on stderr and exit code 2', (args, message) => {
    const result = run(...args);
    expect(result).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
    expect(result.stderr).toMatch(/^[^\n]*\n$/);
    expect(result.stderr).not.toContain(args[0] || 'never empty');
  });

  it('prints the usage alone without arguments', () => {
    expect(run()).toEqual({ code: 2, stdout: '', stderr: 'usage: totp <base32-secret> [digits 6|8] [period 30|60] [algorithm SHA1|SHA256|SHA512]\n' });
  });
});
