/**
 * The start-up error for a configuration that does not decode, as an operator sees it: exit 1
 * (3 for `audit`), "otp-verify: invalid configuration" and one line per problem on stderr (the
 * form README documents for `audit`, "as at start"), the same problems as one JSON log line on
 * the service's stdout (not on audit's), and no refused value that can hold a secret
 * in it: credentials in PUBLIC_URL (Twilio documents them in webhook URLs) or CORS_ORIGINS, a
 * master key pasted into MASTER_KEY_ID or written key:id in PREVIOUS_MASTER_KEYS.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compileService, tempDir } from '../../support/service-process.js';

describe('an invalid configuration at start', () => {
  const dir = tempDir('config-echo');
  let main = '';
  beforeAll(async () => {
    main = join(await compileService(), 'interfaces', 'main.js');
  }, 180_000);
  afterAll(() => dir.remove());

  const run = (env: Record<string, string>, ...args: string[]) => {
    const result = spawnSync(process.execPath, [main, ...args], {
      env: { PATH: process.env['PATH'] ?? '', DATA_DIR: dir.path, ...env },
      encoding: 'utf8',
      timeout: 15_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  const password = 'Hunter2-WebhookPw';
  // Standard base64 of 32 bytes with '+' and '/' (refused as an id), and a url-safe one (a valid id).
  const masterKey = Buffer.from(Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? 0xfb : 0xff))).toString('base64');
  const urlSafeKey = Buffer.alloc(32, 0x9e).toString('base64url');
  const env = {
    PUBLIC_URL: `https://twilio:${password}@otp.example.com`,
    CORS_ORIGINS: `https://app.example.com, https://admin:${password}-Cors@admin.example.com`,
    MASTER_KEY_ID: masterKey,
    PREVIOUS_MASTER_KEYS: `${urlSafeKey}:k0`,
    PORT: 'abc',
  };
  const needles = [password, 'twilio:', 'admin:', masterKey.slice(0, 16), masterKey.slice(-16), urlSafeKey.slice(0, 16)];

  it('names every problem on stderr, one line each, and in one JSON log line on stdout, and shows no secret', () => {
    const started = run(env);
    expect(started.code).toBe(1);
    const [header, ...lines] = started.stderr.trimEnd().split('\n');
    expect(header).toBe('otp-verify: invalid configuration');
    expect(lines.map((line) => /^ {2}- ([A-Z_]+) /.exec(line)?.[1])).toEqual(['PORT', 'MASTER_KEY_ID', 'PREVIOUS_MASTER_KEYS', 'PUBLIC_URL', 'CORS_ORIGINS']);
    // The service's stdout is its log: one JSON line, as every other, with the same problems.
    const logLines = started.stdout.split('\n').filter((line) => line !== '');
    expect(logLines).toHaveLength(1);
    const logged = JSON.parse(logLines[0] ?? '') as Record<string, unknown>;
    expect(logged).toEqual({ level: 'error', time: expect.any(String), msg: 'invalid configuration', problems: lines.map((line) => line.slice('  - '.length)) });
    for (const needle of needles) expect(started.stdout).not.toContain(needle);
    expect(started.stderr).toContain('PORT must be an integer from 1 to 65535, got "abc"');
    expect(started.stderr).toContain('PUBLIC_URL must be the service\'s public http(s) URL, such as https://otp.example.com, without credentials, query or fragment, got https://***@otp.example.com, which has credentials');
    expect(started.stderr).toContain('CORS_ORIGINS must be a comma-separated list of http(s) origins such as https://app.example.com, got https://***@admin.example.com, which has credentials');
    expect(started.stderr).toContain('shaped like a base64 key: the id only names the key, MASTER_KEY holds it');
    for (const needle of needles) expect(started.stderr).not.toContain(needle);
  });

  it('says the same, without secrets, when `audit` cannot run (exit 3)', () => {
    const audited = run(env, 'audit', 'verify');
    expect(audited.code).toBe(3);
    expect(audited.stdout).toBe(''); // audit's stdout is its report or export, never a log line
    expect(audited.stderr).toMatch(/^otp-verify: invalid configuration\n {2}- /);
    for (const needle of needles) expect(`${audited.stdout}${audited.stderr}`).not.toContain(needle);
  });
});
