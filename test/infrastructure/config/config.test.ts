import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig, parseEmailSender, usesEmbeddedStorage, type Config } from '../../../src/infrastructure/config/config.js';

const key32 = randomBytes(32).toString('base64');
const jwtSecret = randomBytes(48).toString('base64');
const ok = (env: NodeJS.ProcessEnv): Config => {
  const result = loadConfig(env);
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};
const problems = (env: NodeJS.ProcessEnv): readonly string[] => {
  const result = loadConfig(env);
  if (E.isRight(result)) throw new Error('expected the configuration to be refused');
  return result.left.problems;
};
const pem = (type: 'ed25519' | 'rsa') =>
  type === 'ed25519'
    ? generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    : generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('loadConfig', () => {
  it('applies every default to an empty environment', () => {
    expect(ok({})).toEqual({
      port: 8000,
      host: '0.0.0.0',
      dataDir: './data',
      masterKey: undefined,
      masterKeyId: 'k1',
      previousMasterKeys: [],
      jwtSecret: undefined,
      jwtPrivateKey: undefined,
      jwtPublicKey: undefined,
      jwtIssuer: 'otp-verify',
      jwtAudience: 'otp-verify-api',
      accessTokenExpireMinutes: 30,
      databaseUrl: undefined,
      eventstoreConnectionString: undefined,
      redisUrl: undefined,
      redisKeyPrefix: 'otp-verify:',
      outboxFile: join('./data', 'outbox.jsonl'),
      resendApiKey: undefined,
      emailAddress: undefined,
      twilioAccountSid: undefined,
      twilioAuthToken: undefined,
      twilioPhoneNumber: undefined,
      twilioWhatsappNumber: undefined,
      twilioWhatsappContentSid: undefined,
      smtpUrl: undefined,
      loginAttemptsPerIpPerMinute: 30,
      sendsPerIpPerHour: 60,
      verifyFailuresPerDay: 20,
      verifyUnknownUsersPerApp: 10_000,
      retired: [],
      webConcurrency: 1,
      logLevel: 'info',
      corsOrigins: [],
      operatorSignup: 'open',
      keepAliveTimeoutSeconds: 65,
      shutdownDelayMs: 0,
      shutdownTimeoutMs: 10_000,
      logSealIntervalSeconds: 10,
      readModelStallSeconds: 60,
      registrationsPerIpPerHour: 20,
      appsPerOperator: 100,
      redisTimeoutMs: 150,
      deliveryTimeoutMs: 10_000,
      databasePoolSize: 20,
      migrationWaitSeconds: 300,
      trustedProxies: 0,
      processRole: 'all',
      stateCacheEntries: 20_000,
      appStalenessMs: 1000,
      resendRatePerSecond: 2,
      deliveryReceipts: 'record',
      argon2MemoryKiB: 19456,
      argon2TimeCost: 2,
    });
    expect(usesEmbeddedStorage(ok({}))).toBe(true);
  });

  it('treats blank values as unset and derives OUTBOX_FILE from DATA_DIR', () => {
    const config = ok({ PORT: '', DATA_DIR: '/var/lib/otp', LOG_LEVEL: '  ' });
    expect(config).toMatchObject({ port: 8000, logLevel: 'info', outboxFile: '/var/lib/otp/outbox.jsonl' });
  });

  it('keeps no outbox on production stores unless OUTBOX_FILE asks for one', () => {
    const shared = { MASTER_KEY: key32, JWT_PRIVATE_KEY: pem('ed25519').replace(/\n/g, '\\n') };
    expect(ok({ ...shared, DATABASE_URL: 'postgres://db/otp' }).outboxFile).toBeUndefined();
    expect(ok({ ...shared, EVENTSTORE_CONNECTION_STRING: 'esdb://a:2113?tls=false' }).outboxFile).toBeUndefined();
    expect(ok({ ...shared, DATABASE_URL: 'postgres://db/otp', OUTBOX_FILE: '/tmp/out.jsonl' }).outboxFile).toBe('/tmp/out.jsonl');
    expect(ok({ DATA_DIR: '/var/lib/otp' }).outboxFile).toBe('/var/lib/otp/outbox.jsonl');
  });

  it('reads PUBLIC_URL as an http(s) base without trailing slash, a path prefix kept, and refuses a query or credentials', () => {
    expect(ok({}).publicUrl).toBeUndefined();
    expect(ok({ PUBLIC_URL: 'https://OTP.example.com/' }).publicUrl).toBe('https://otp.example.com');
    expect(ok({ PUBLIC_URL: ' https://example.com/otp/ ' }).publicUrl).toBe('https://example.com/otp');
    expect(ok({ PUBLIC_URL: 'http://10.0.0.5:8000' }).publicUrl).toBe('http://10.0.0.5:8000');
    for (const value of ['otp.example.com', 'ftp://example.com', 'https://example.com/?a=1', 'https://user:pw@example.com', 'https://example.com/#x'])
      expect(problems({ PUBLIC_URL: value })).toEqual([expect.stringMatching(/^PUBLIC_URL must be the service's public http\(s\) URL/)]);
  });

  it('decodes a full shared-storage configuration', () => {
    const previous = randomBytes(32);
    const config = ok({
      PORT: '9000',
      MASTER_KEY: key32,
      MASTER_KEY_ID: 'k2',
      PREVIOUS_MASTER_KEYS: `k1:${previous.toString('base64')}`,
      JWT_PRIVATE_KEY: pem('ed25519').replace(/\n/g, '\\n'),
      ACCESS_TOKEN_EXPIRE_MINUTES: '15',
      DATABASE_URL: 'postgresql://otp:pw@db:5432/otp',
      EVENTSTORE_CONNECTION_STRING: 'esdb://a:2113,b:2113?tls=false',
      REDIS_URL: 'rediss://cache:6380',
      OUTBOX_FILE: '/tmp/out.jsonl',
      LOG_LEVEL: 'DEBUG',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/',
      TRUST_PROXY: 'true',
      PROCESS_ROLE: 'worker',
      OPERATOR_SIGNUP: 'INVITE',
      STATE_CACHE_ENTRIES: '0',
      APP_CACHE_MS: '250',
      LOG_SEAL_INTERVAL_S: '0',
      DATABASE_POOL_SIZE: '50',
      MIGRATION_WAIT_S: '0',
      READ_MODEL_STALL_S: '300',
      REDIS_TIMEOUT_MS: '400',
      DELIVERY_TIMEOUT_MS: '2500',
      DELIVERY_RECEIPTS: 'Ignore',
      ARGON2_MEMORY_KIB: '65536',
      ARGON2_TIME_COST: '3',
    });
    expect(config).toMatchObject({
      argon2MemoryKiB: 65536,
      argon2TimeCost: 3,
      databasePoolSize: 50,
      migrationWaitSeconds: 0,
      readModelStallSeconds: 300,
      redisTimeoutMs: 400,
      deliveryTimeoutMs: 2500,
      deliveryReceipts: 'ignore',
      logSealIntervalSeconds: 0,
      stateCacheEntries: 0,
      appStalenessMs: 250,
      port: 9000,
      masterKeyId: 'k2',
      accessTokenExpireMinutes: 15,
      outboxFile: '/tmp/out.jsonl',
      logLevel: 'debug',
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      trustedProxies: 1,
      processRole: 'worker',
      operatorSignup: 'invite',
    });
    expect(config.masterKey).toEqual(Buffer.from(key32, 'base64'));
    expect(config.previousMasterKeys).toEqual([{ id: 'k1', key: previous }]);
    expect(config.jwtPrivateKey).toContain('-----BEGIN PRIVATE KEY-----\n');
    expect(config.jwtPublicKey).toContain('-----BEGIN PUBLIC KEY-----');
    expect(usesEmbeddedStorage(config)).toBe(false);
  });

  it.each([
    ['PORT', 'abc', 'PORT must be an integer from 1 to 65535, got "abc"'],
    ['PORT', '70000', 'PORT must be an integer from 1 to 65535, got "70000"'],
    ['ACCESS_TOKEN_EXPIRE_MINUTES', '0', 'ACCESS_TOKEN_EXPIRE_MINUTES must be an integer from 1 to 1440, got "0"'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"'],
    ['DATABASE_POOL_SIZE', '1', 'DATABASE_POOL_SIZE must be an integer from 2 to 1000, got "1"'],
    ['MIGRATION_WAIT_S', '5m', 'MIGRATION_WAIT_S must be an integer from 0 to 86400, got "5m"'],
    ['LOG_SEAL_INTERVAL_S', '-1', 'LOG_SEAL_INTERVAL_S must be an integer from 0 to 86400, got "-1"'],
    ['READ_MODEL_STALL_S', '2', 'READ_MODEL_STALL_S must be an integer from 5 to 86400, got "2"'],
    ['HOST', 'not_a_host', 'HOST must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name, got "not_a_host"'],
    ['HOST', 'http://0.0.0.0', 'HOST must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name, got a URL: give the address alone'],
    ['REDIS_TIMEOUT_MS', '5', 'REDIS_TIMEOUT_MS must be an integer from 10 to 60000, got "5"'],
    ['REGISTRATIONS_PER_IP_PER_HOUR', '0', 'REGISTRATIONS_PER_IP_PER_HOUR must be an integer from 1 to 1000000, got "0"'],
    ['APPS_PER_OPERATOR', '0', 'APPS_PER_OPERATOR must be an integer from 1 to 100000, got "0"'],
    ['DELIVERY_TIMEOUT_MS', '1.5', 'DELIVERY_TIMEOUT_MS must be an integer from 100 to 300000, got "1.5"'],
    ['PROCESS_ROLE', 'web', 'PROCESS_ROLE must be one of api, worker, all, got "web"'],
    ['OPERATOR_SIGNUP', 'closed', 'OPERATOR_SIGNUP must be one of open, invite, got "closed"'],
    ['DELIVERY_RECEIPTS', 'off', 'DELIVERY_RECEIPTS must be one of record, ignore, got "off"'],
    ['TRUST_PROXY', 'maybe', 'TRUST_PROXY must be true, false or a number of proxies from 0 to 10, got "maybe"'],
    ['TRUST_PROXY', '11', 'TRUST_PROXY must be true, false or a number of proxies from 0 to 10, got "11"'],
    ['MASTER_KEY_ID', 'k 1', 'MASTER_KEY_ID must be'],
    ['DATABASE_URL', 'mysql://u:pw@db/x', 'DATABASE_URL must be a URL starting with postgres:// or postgresql://, got a URL starting with mysql://'],
    [
      'EVENTSTORE_CONNECTION_STRING',
      'http://es:2113',
      'EVENTSTORE_CONNECTION_STRING must be a URL starting with esdb://, kurrentdb://, esdb+discover:// or kurrentdb+discover://, got a URL starting with http://',
    ],
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL must be a URL starting with redis:// or rediss://, got a value that is not a URL'],
    ['CORS_ORIGINS', 'https://ok.example,ftp://files.example', 'CORS_ORIGINS must be a comma-separated list of http(s) origins'],
    ['CORS_ORIGINS', 'https://app.example.com/path', 'got https://app.example.com/…, which has a path'],
    ['EMAIL_ADDRESS', 'not-an-email', 'EMAIL_ADDRESS must be an email address'],
    ['PREVIOUS_MASTER_KEYS', `k0:${randomBytes(16).toString('base64')}`, 'PREVIOUS_MASTER_KEYS must be a comma-separated list of id:base64'],
    ['ARGON2_MEMORY_KIB', '19455', 'ARGON2_MEMORY_KIB must be an integer from 19456 to 1048576, got "19455"'],
    ['ARGON2_MEMORY_KIB', '64MiB', 'ARGON2_MEMORY_KIB must be an integer from 19456 to 1048576, got "64MiB"'],
    ['ARGON2_MEMORY_KIB', '1073741824', 'ARGON2_MEMORY_KIB must be an integer from 19456 to 1048576, got "1073741824"'],
    ['ARGON2_TIME_COST', '1', 'ARGON2_TIME_COST must be an integer from 2 to 20, got "1"'],
    ['ARGON2_TIME_COST', '21', 'ARGON2_TIME_COST must be an integer from 2 to 20, got "21"'],
    ['ARGON2_TIME_COST', '2.5', 'ARGON2_TIME_COST must be an integer from 2 to 20, got "2.5"'],
  ])('names %s when it is %p', (name, value, message) => {
    // Shared keys are set so that storage URLs do not add "is required" problems.
    const found = problems({ MASTER_KEY: key32, JWT_SECRET: jwtSecret, [name]: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(message);
  });

  it.each([
    ['false', 0],
    ['no', 0],
    ['0', 0],
    ['true', 1],
    ['on', 1],
    ['1', 1],
    ['2', 2],
    ['10', 10],
  ])('reads TRUST_PROXY=%s as %i trusted proxies', (value, proxies) => {
    expect(ok({ TRUST_PROXY: value }).trustedProxies).toBe(proxies);
  });

  it('refuses a MASTER_KEY of 31 bytes or one that is not base64, without echoing it', () => {
    const short = randomBytes(31).toString('base64');
    expect(problems({ MASTER_KEY: short })).toEqual([
      'MASTER_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32), got 31 bytes',
    ]);
    const [notBase64] = problems({ MASTER_KEY: 'this is not base64!' });
    expect(notBase64).toContain('got a value that is not base64');
    expect(notBase64).not.toContain('this is not');
  });

  it('refuses a short JWT_SECRET without echoing it', () => {
    expect(problems({ JWT_SECRET: 'short-secret' })).toEqual(['JWT_SECRET must be a random secret of at least 32 bytes (openssl rand -base64 48), got 12 bytes']);
  });

  it('refuses a JWT_SECRET that is a value repeated, of few characters, or the MASTER_KEY; takes random ones however made', () => {
    const rule = 'JWT_SECRET must be a random secret of at least 32 bytes (openssl rand -base64 48)';
    expect(problems({ JWT_SECRET: 'password'.repeat(4) })).toEqual([`${rule}, got a shorter value repeated`]);
    expect(problems({ JWT_SECRET: 'z'.repeat(32) })).toEqual([`${rule}, got a shorter value repeated`]);
    expect(problems({ JWT_SECRET: 'aaaabbbbccccddddeeeeffffgggghhhh'.slice(0, 28) + 'abcd' })).toEqual([`${rule}, got fewer than 8 different characters`]);
    expect(problems({ MASTER_KEY: key32, JWT_SECRET: key32 })).toEqual(['JWT_SECRET must differ from MASTER_KEY (one signs tokens, the other wraps data keys)']);
    for (let i = 0; i < 200; i++)
      for (const secret of [randomBytes(48).toString('base64'), randomBytes(16).toString('hex'), randomBytes(32).toString('base64url')]) expect(ok({ JWT_SECRET: secret }).jwtSecret).toEqual(Buffer.from(secret));
  });

  it('refuses a MASTER_KEY of 32 bytes that are not random (zeros, a byte repeated)', () => {
    for (const bytes of [Buffer.alloc(32), Buffer.alloc(32, 7), Buffer.from('0123456'.repeat(5).slice(0, 32))])
      expect(problems({ MASTER_KEY: bytes.toString('base64') })).toEqual([
        'MASTER_KEY must be 32 random bytes (openssl rand -base64 32), got 32 bytes of fewer than 8 different values',
      ]);
    for (let i = 0; i < 200; i++) expect(ok({ MASTER_KEY: randomBytes(32).toString('base64') }).masterKey).toHaveLength(32);
  });

  it('refuses a JWT_PRIVATE_KEY that is not an Ed25519 PEM, and both JWT variables at once', () => {
    expect(problems({ JWT_PRIVATE_KEY: pem('rsa') })).toEqual([
      'JWT_PRIVATE_KEY must be an Ed25519 private key in PEM (PKCS#8), got a rsa key',
    ]);
    expect(problems({ JWT_PRIVATE_KEY: 'garbage' })[0]).toContain('got a value that is not a PEM private key');
    expect(problems({ JWT_PRIVATE_KEY: pem('ed25519'), JWT_SECRET: jwtSecret })).toEqual([
      'JWT_SECRET and JWT_PRIVATE_KEY are both set; set only one',
    ]);
  });

  it('requires shared keys when the storage is shared', () => {
    const found = problems({ DATABASE_URL: 'postgres://db/otp' });
    expect(found).toHaveLength(2);
    expect(problems({ DATABASE_URL: 'postgres://db/otp', MASTER_KEY: key32 })).toHaveLength(1);
    expect(found[0]).toMatch(/^MASTER_KEY is required when DATABASE_URL or EVENTSTORE_CONNECTION_STRING is set/);
    expect(found[1]).toMatch(/^JWT_SECRET or JWT_PRIVATE_KEY is required/);
    expect(ok({ EVENTSTORE_CONNECTION_STRING: 'kurrentdb+discover://es', MASTER_KEY: key32, JWT_SECRET: jwtSecret }).jwtSecret).toEqual(
      Buffer.from(jwtSecret),
    );
  });

  it.each(['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost', 'api-1.internal.example.com'])('accepts HOST=%s', (host) => {
    expect(ok({ HOST: host }).host).toBe(host);
  });

  it('asks the one-off commands only for the keys they use: audit the master key, projections none', () => {
    const shared = { DATABASE_URL: 'postgres://db/otp' };
    const problemsOf = (env: Record<string, string>, keys: 'master' | 'none') => {
      const result = loadConfig(env, keys);
      return result._tag === 'Left' ? result.left.problems : [];
    };
    expect(problemsOf(shared, 'none')).toEqual([]);
    expect(problemsOf(shared, 'master')).toEqual([expect.stringMatching(/^MASTER_KEY is required/)]);
    expect(problemsOf({ ...shared, MASTER_KEY: key32 }, 'master')).toEqual([]);
  });

  it('refuses a previous key that reuses the current id or repeats an id', () => {
    const k = randomBytes(32).toString('base64');
    expect(problems({ PREVIOUS_MASTER_KEYS: `k1:${k}` })).toEqual([
      'PREVIOUS_MASTER_KEYS must not reuse MASTER_KEY_ID, got entry 1 with the id of MASTER_KEY_ID (k1 when unset)',
    ]);
    expect(problems({ MASTER_KEY_ID: 'k3', PREVIOUS_MASTER_KEYS: `k2:${k}, k3:${k}` })).toEqual([
      'PREVIOUS_MASTER_KEYS must not reuse MASTER_KEY_ID, got entry 2 with the id of MASTER_KEY_ID',
    ]);
    expect(problems({ PREVIOUS_MASTER_KEYS: `old:${k},k0:${k},old:${k}` })[0]).toContain('got entries 1 and 3 with the same id');
  });

  it('reports every bad variable at once', () => {
    const found = problems({ PORT: 'abc', LOG_LEVEL: 'loud', MASTER_KEY: 'AAAA', REDIS_URL: 'x', DATABASE_URL: 'postgres://db' });
    expect(found.map((problem) => problem.split(' ')[0])).toEqual(['PORT', 'MASTER_KEY', 'REDIS_URL', 'LOG_LEVEL', 'JWT_SECRET']);
    const error = loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(E.isLeft(error) && error.left.message).toBe(
      'Invalid configuration:\n  - PORT must be an integer from 1 to 65535, got "abc"\n  - LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
  });
});

describe('loadConfig: settings that only work together', () => {
  const shared = { MASTER_KEY: key32, JWT_SECRET: jwtSecret };

  it('refuses several processes or split roles without PostgreSQL, naming the variable', () => {
    expect(problems({ WEB_CONCURRENCY: '2' })).toEqual(['WEB_CONCURRENCY=2 needs DATABASE_URL: without PostgreSQL the service runs as one process']);
    expect(problems({ PROCESS_ROLE: 'api' })).toEqual([expect.stringContaining('PROCESS_ROLE=api needs DATABASE_URL')]);
    expect(problems({ ...shared, EVENTSTORE_CONNECTION_STRING: 'kurrentdb://127.0.0.1:2113?tls=false', PROCESS_ROLE: 'worker' })).toEqual([
      expect.stringContaining('PROCESS_ROLE=worker needs DATABASE_URL'),
    ]);
    expect(E.isRight(loadConfig({ ...shared, DATABASE_URL: 'postgres://db/otp', WEB_CONCURRENCY: '2', PROCESS_ROLE: 'api' }))).toBe(true);
    expect(E.isRight(loadConfig({ PROCESS_ROLE: 'all', WEB_CONCURRENCY: '1' }))).toBe(true);
  });

  it('refuses a half-configured email provider instead of leaving codes in the outbox file', () => {
    expect(problems({ RESEND_API_KEY: 're_123' })).toEqual([expect.stringContaining('EMAIL_ADDRESS is required when RESEND_API_KEY is set')]);
    expect(problems({ SMTP_URL: 'smtp://mail:25' })).toEqual([expect.stringContaining('EMAIL_ADDRESS is required when SMTP_URL is set')]);
    expect(E.isRight(loadConfig({ RESEND_API_KEY: 're_123', EMAIL_ADDRESS: 'codes@example.com' }))).toBe(true);
  });

  it('takes EMAIL_ADDRESS as an address, or as a display name and one (Name <address>), and nothing malformed', () => {
    const email = (value: string) => ok({ RESEND_API_KEY: 're_123', EMAIL_ADDRESS: value }).emailAddress;
    expect(email('codes@acme.example')).toBe('codes@acme.example');
    expect(email('Acme <codes@acme.example>')).toBe('Acme <codes@acme.example>');
    expect(email('Acme<codes@acme.example>')).toBe('Acme <codes@acme.example>');
    expect(email(' Acme Codes  <codes@acme.example> ')).toBe('Acme Codes <codes@acme.example>');
    expect(email('<codes@acme.example>')).toBe('codes@acme.example');
    // A name with one of RFC 5322's specials is quoted, as Resend must read it (unquoted, the
    // comma makes a list of two addresses); a quoted name is taken, and unquoted when it can be.
    expect(email('Café Acme, EU <codes@acme.example>')).toBe('"Café Acme, EU" <codes@acme.example>');
    expect(email('"Acme, Inc." <codes@acme.example>')).toBe('"Acme, Inc." <codes@acme.example>');
    expect(email('"Acme"<codes@acme.example>')).toBe('Acme <codes@acme.example>');
    expect(email('"Say \\"hi\\" \\\\ bye" <codes@acme.example>')).toBe('"Say \\"hi\\" \\\\ bye" <codes@acme.example>');
    expect(parseEmailSender('"Say \\"hi\\" \\\\ bye" <codes@acme.example>')).toEqual({ name: 'Say "hi" \\ bye', address: 'codes@acme.example' });
    expect(parseEmailSender(email('Acme (EU): codes <codes@acme.example>')!)).toEqual({ name: 'Acme (EU): codes', address: 'codes@acme.example' });
    const rule = 'EMAIL_ADDRESS must be an email address, or a name and one as Name <address>';
    for (const value of [
      'Acme <codes@acme.example',
      'Acme codes@acme.example>',
      'Acme <codes@acme.example> x',
      'Acme <codes acme.example>',
      'Acme <codes@acme@example>',
      'Acme <<codes@acme.example>>',
      'Acme <>',
      '"Acme <codes@acme.example>',
      '"Ac"me" <codes@acme.example>',
      'Acme\t<codes@acme.example>',
      'Acme\nBcc: x@y.example <codes@acme.example>',
      'Ac<me <codes@acme.example>',
      'Ac>me <codes@acme.example>',
      'codes<@acme.example',
      'codes@acme.example>',
    ])
      expect(problems({ RESEND_API_KEY: 're_123', EMAIL_ADDRESS: value })).toEqual([`${rule}, got a value of ${value.trim().length} characters (not shown)`]);
  });

  it('refuses a half-configured Twilio account, naming each missing variable', () => {
    expect(problems({ TWILIO_PHONE_NUMBER: '+15005550006' })).toEqual([
      'TWILIO_ACCOUNT_SID is required when any TWILIO_* variable is set',
      'TWILIO_AUTH_TOKEN is required when any TWILIO_* variable is set',
    ]);
    expect(problems({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't' })).toEqual([expect.stringContaining('TWILIO_PHONE_NUMBER (SMS) or TWILIO_WHATSAPP_NUMBER')]);
    expect(problems({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_PHONE_NUMBER: '+1', TWILIO_WHATSAPP_CONTENT_SID: 'HX1' })).toEqual([
      'TWILIO_WHATSAPP_NUMBER is required when TWILIO_WHATSAPP_CONTENT_SID is set',
    ]);
    expect(E.isRight(loadConfig({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_WHATSAPP_NUMBER: '+1' }))).toBe(true);
  });

  it('takes the auth token before a rotation, different from the current one', () => {
    const account = { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'new-token', TWILIO_PHONE_NUMBER: '+1' };
    expect(ok({ ...account, TWILIO_PREVIOUS_AUTH_TOKEN: 'old-token' }).twilioPreviousAuthToken).toBe('old-token');
    expect(problems({ ...account, TWILIO_PREVIOUS_AUTH_TOKEN: ' new-token ' })).toEqual(['TWILIO_PREVIOUS_AUTH_TOKEN must differ from TWILIO_AUTH_TOKEN (it is the token before a rotation)']);
    expect(problems({ TWILIO_PREVIOUS_AUTH_TOKEN: 'old-token' })).toEqual(expect.arrayContaining(['TWILIO_ACCOUNT_SID is required when any TWILIO_* variable is set']));
  });

  it("takes Resend's webhook signing secret (whsec_ and base64), never echoing a bad one, only with RESEND_API_KEY", () => {
    const resend = { RESEND_API_KEY: 're_123', EMAIL_ADDRESS: 'codes@acme.example' };
    const secret = `whsec_${Buffer.from('a signing secret of 24 b.').toString('base64')}`;
    expect(ok({ ...resend, RESEND_WEBHOOK_SECRET: ` ${secret} ` }).resendWebhookSecret).toBe(secret);
    expect(ok(resend).resendWebhookSecret).toBeUndefined();
    const rule = "RESEND_WEBHOOK_SECRET must be the signing secret Resend shows for the endpoint: whsec_ and base64 of at least 16 bytes";
    expect(problems({ ...resend, RESEND_WEBHOOK_SECRET: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })).toEqual([`${rule}, got a value without the whsec_ prefix`]);
    expect(problems({ ...resend, RESEND_WEBHOOK_SECRET: 'whsec_c2hvcnQ=' })).toEqual([`${rule}, got whsec_ and 5 bytes`]);
    expect(problems({ ...resend, RESEND_WEBHOOK_SECRET: 'whsec_not base64 at all!' })).toEqual([`${rule}, got whsec_ and a value that is not standard base64`]);
    expect(problems({ ...resend, RESEND_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La_aSw' })).toEqual([`${rule}, got whsec_ and a value that is not standard base64`]);
    expect(problems({ RESEND_WEBHOOK_SECRET: secret })).toEqual([
      'RESEND_API_KEY is required when RESEND_WEBHOOK_SECRET is set (except with PROCESS_ROLE=api): the webhooks report on emails Resend sent',
    ]);
    // An API process takes the webhooks without sending email itself.
    expect(ok({ RESEND_WEBHOOK_SECRET: secret, PROCESS_ROLE: 'api', DATABASE_URL: 'postgres://db/otp', MASTER_KEY: key32, JWT_SECRET: jwtSecret }).resendWebhookSecret).toBe(secret);
  });
});

describe('loadConfig: REDIS_KEY_PREFIX', () => {
  it('defaults to otp-verify: and takes a deployment-specific prefix', () => {
    const read = (env: NodeJS.ProcessEnv) => {
      const result = loadConfig(env);
      if (E.isLeft(result)) throw new Error(result.left.problems.join('; '));
      return result.right.redisKeyPrefix;
    };
    expect(read({})).toBe('otp-verify:');
    expect(read({ REDIS_KEY_PREFIX: 'otp-eu-1:' })).toBe('otp-eu-1:');
  });

  it('takes VERIFY_FAILURES_PER_DAY up to the failures a state keeps, naming the variable beyond', () => {
    expect(ok({ VERIFY_FAILURES_PER_DAY: '100' }).verifyFailuresPerDay).toBe(100);
    for (const value of ['0', '101', '2.5']) expect([value, problems({ VERIFY_FAILURES_PER_DAY: value })]).toEqual([value, [expect.stringContaining('VERIFY_FAILURES_PER_DAY')]]);
  });

  it('takes the argon2 cost from its minimum (OWASP: 19456 KiB, 2 passes) to 1 GiB and 20 passes, bounds included', () => {
    expect(ok({ ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' })).toMatchObject({ argon2MemoryKiB: 19456, argon2TimeCost: 2 });
    expect(ok({ ARGON2_MEMORY_KIB: ' 1048576 ', ARGON2_TIME_COST: '20' })).toMatchObject({ argon2MemoryKiB: 1_048_576, argon2TimeCost: 20 });
    expect(ok({ ARGON2_MEMORY_KIB: '', ARGON2_TIME_COST: ' ' })).toMatchObject({ argon2MemoryKiB: 19456, argon2TimeCost: 2 });
    expect(problems({ ARGON2_MEMORY_KIB: '1048577', ARGON2_TIME_COST: '0' }).map((problem) => problem.split(' ')[0])).toEqual(['ARGON2_MEMORY_KIB', 'ARGON2_TIME_COST']);
  });

  it('takes VERIFY_UNKNOWN_USERS_PER_APP from 1 to 1,000,000, naming the variable otherwise', () => {
    expect(ok({ VERIFY_UNKNOWN_USERS_PER_APP: '50000' }).verifyUnknownUsersPerApp).toBe(50_000);
    for (const value of ['0', '-1', '2.5', '1000001']) expect([value, problems({ VERIFY_UNKNOWN_USERS_PER_APP: value })]).toEqual([value, [expect.stringContaining('VERIFY_UNKNOWN_USERS_PER_APP')]]);
  });

  it('starts with VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY set (whatever its value), saying it is no longer read and what bounds the decoy now', () => {
    for (const value of ['500', 'junk']) {
      const config = ok({ VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY: value });
      expect(config.retired).toEqual([expect.stringMatching(/^VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY is no longer read: .*VERIFY_UNKNOWN_USERS_PER_APP /)]);
    }
    expect(ok({ VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY: ' ' }).retired).toEqual([]);
  });

  it('refuses a prefix with spaces or wildcards, naming the variable', () => {
    expect(problems({ REDIS_KEY_PREFIX: 'otp *' })).toEqual([expect.stringContaining('REDIS_KEY_PREFIX')]);
  });
});

/**
 * A refused value is quoted back only where the variable holds numbers or fixed words (see
 * env-codecs.ts `echo`): a value that can hold a secret (a URL's credentials, a key pasted into
 * an id) is described instead. Each needle is a distinctive part of such a value.
 */
describe('loadConfig: refused values that can hold a secret are not echoed', () => {
  const shared = { MASTER_KEY: key32, JWT_SECRET: jwtSecret };
  // 32 bytes whose standard base64 has '+' and '/' (refused as an id), and a url-safe one (a valid id).
  const standardKey = Buffer.from(Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? 0xfb : 0xff))).toString('base64');
  const urlSafeKey = Buffer.alloc(32, 0x9e).toString('base64url');
  const otherKey = randomBytes(32).toString('base64');

  const refusedWithout = (env: NodeJS.ProcessEnv, needles: readonly string[]): readonly string[] => {
    const result = loadConfig({ ...shared, ...env });
    if (E.isRight(result)) throw new Error('expected the configuration to be refused');
    for (const text of [...result.left.problems, result.left.message, String(result.left)])
      for (const needle of needles) expect(text).not.toContain(needle);
    return result.left.problems;
  };

  it.each([
    ['PUBLIC_URL', 'https://twilio:HuntPw-Pub1ic@otp.example.com', ['HuntPw-Pub1ic', 'twilio:'], "got https://***@otp.example.com, which has credentials"],
    ['PUBLIC_URL', 'https://otp.example.com/hooks/Path-T0ken?sig=Query-T0ken#Frag-T0ken', ['Path-T0ken', 'Query-T0ken', 'Frag-T0ken'], 'got https://otp.example.com/…, which has a query string and a fragment'],
    ['PUBLIC_URL', 'https://user:HuntPw-Pub1ic@otp.example.com/?a=1', ['HuntPw-Pub1ic', 'user:'], 'got https://***@otp.example.com, which has credentials and a query string'],
    ['PUBLIC_URL', 'ftp://files:Ftp-Pa55word@files.example.com', ['Ftp-Pa55word', 'files.example'], 'got a URL that is not http(s)'],
    ['PUBLIC_URL', 'https://twilio:HuntPw-Pub1ic@otp example.com', ['HuntPw-Pub1ic', 'twilio'], 'got a value that is not a URL'],
    ['PUBLIC_URL', 'twilio:HuntPw-Pub1ic@otp.example.com', ['HuntPw-Pub1ic'], 'got a URL that is not http(s)'],
    ['PUBLIC_URL', 'otp.example.com/Path-T0ken', ['Path-T0ken'], 'got a value that is not a URL (no scheme such as https://)'],
    ['CORS_ORIGINS', 'https://ok.example, https://admin:C0rs-Pa55word@app.example.com', ['C0rs-Pa55word', 'admin:'], 'got https://***@app.example.com, which has credentials'],
    ['CORS_ORIGINS', 'https://app.example.com/Path-T0ken?k=Query-T0ken', ['Path-T0ken', 'Query-T0ken'], 'got https://app.example.com/…, which has a query string and a path'],
    ['CORS_ORIGINS', 'wss://u:C0rs-Pa55word@app.example.com', ['C0rs-Pa55word'], 'got a URL that is not http(s)'],
    ['MASTER_KEY_ID', standardKey, [standardKey.slice(0, 12), standardKey.slice(-12)], `got a value of ${standardKey.length} characters, not all of them allowed (not shown), shaped like a base64 key`],
    ['MASTER_KEY_ID', `k1-${'Long-Id-Needle'.repeat(5)}`, ['Long-Id-Needle'], 'got a value of 73 characters (not shown)'],
    ['PREVIOUS_MASTER_KEYS', `${urlSafeKey}:k0`, [urlSafeKey.slice(0, 12)], 'got entry 1 with a key of 1 bytes'],
    ['PREVIOUS_MASTER_KEYS', `k0:${otherKey},${standardKey}`, [standardKey.slice(0, 12), otherKey.slice(0, 12)], 'got entry 2 without a valid id'],
    ['PREVIOUS_MASTER_KEYS', `${urlSafeKey}:${otherKey},${urlSafeKey}:${otherKey}`, [urlSafeKey.slice(0, 12), otherKey.slice(0, 12)], 'got entries 1 and 2 with the same id'],
    ['REDIS_KEY_PREFIX', 'Redis Pa55word!', ['Pa55word'], 'got a value of 15 characters (not shown)'],
    ['EMAIL_ADDRESS', 'codes@acme.example Ema1l-Pa55word', ['Ema1l-Pa55word', 'codes@acme'], 'got a value of 33 characters (not shown)'],
    ['HOST', 'http://admin:H0st-Pa55word@0.0.0.0', ['H0st-Pa55word', 'admin'], 'got a URL: give the address alone'],
    ['HOST', 'admin:H0st-Pa55word@0.0.0.0', ['H0st-Pa55word', 'admin'], "got a value with '@' (27 characters, not shown)"],
    ['HOST', standardKey, [standardKey.slice(0, 12)], `got a value of ${standardKey.length} characters (not shown)`],
    ['DATABASE_URL', 'mysql://otp:Db-Pa55word@db/otp', ['Db-Pa55word', 'otp:'], 'got a URL starting with mysql://'],
    ['DATABASE_URL', `${'x'.repeat(30)}Db-Pa55word://db`, ['Db-Pa55word'], 'got a URL with another scheme'],
    ['REDIS_URL', 'cache:Redis-Pa55word@localhost:6379', ['Redis-Pa55word'], 'got a value that is not a URL'],
    ['EVENTSTORE_CONNECTION_STRING', 'http://admin:Es-Pa55word@es:2113', ['Es-Pa55word'], 'got a URL starting with http://'],
    ['PORT', standardKey, [standardKey.slice(0, 12)], `got a value of ${standardKey.length} characters (not shown)`],
    ['LOG_LEVEL', otherKey, [otherKey.slice(0, 12)], `got a value of ${otherKey.length} characters (not shown)`],
    ['TRUST_PROXY', otherKey, [otherKey.slice(0, 12)], `got a value of ${otherKey.length} characters (not shown)`],
  ])('%s (case %#): described, not echoed', (name, value, needles, described) => {
    const found = refusedWithout({ [name]: value }, needles);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name} `));
    expect(found[0]).toContain(described);
  });

  it('describes a MASTER_KEY_ID that reuses a previous id without showing either', () => {
    const found = refusedWithout({ MASTER_KEY_ID: urlSafeKey, PREVIOUS_MASTER_KEYS: `k0:${otherKey},${urlSafeKey}:${otherKey}` }, [urlSafeKey.slice(0, 12), otherKey.slice(0, 12)]);
    expect(found).toEqual(['PREVIOUS_MASTER_KEYS must not reuse MASTER_KEY_ID, got entry 2 with the id of MASTER_KEY_ID']);
  });

  it('still quotes short values of variables that hold numbers or fixed words', () => {
    expect(problems({ PORT: 'abc', PROCESS_ROLE: 'foo', LOG_LEVEL: 'loud', TRUST_PROXY: 'maybe', HOST: 'not_a_host' })).toEqual([
      'PORT must be an integer from 1 to 65535, got "abc"',
      'HOST must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name, got "not_a_host"',
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
      'TRUST_PROXY must be true, false or a number of proxies from 0 to 10, got "maybe"',
      'PROCESS_ROLE must be one of api, worker, all, got "foo"',
    ]);
  });

  it('accepts what it accepted: credentials-free URLs, ids and prefixes', () => {
    expect(ok({ PUBLIC_URL: 'https://otp.example.com/otp/', CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/' })).toMatchObject({
      publicUrl: 'https://otp.example.com/otp',
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
    });
    expect(ok({ MASTER_KEY_ID: 'key-2025.01_a', PREVIOUS_MASTER_KEYS: `k0:${otherKey}, k-1:${key32}` }).previousMasterKeys.map((k) => k.id)).toEqual(['k0', 'k-1']);
  });
});
