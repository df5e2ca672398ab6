import { readFileSync, existsSync } from 'node:fs';
import { createTotp } from '../../src/infrastructure/otp/totp.js';
import type { ActiveApp } from '../../src/application/apps/app-view.js';
import type { Handlers } from '../../src/application/handlers.js';
import type { PolicyPatch } from '../../src/domain/client-app/index.js';
import type { Client } from './http-client.js';

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Registers and logs in a fresh operator. */
export const newOperator = async (client: Client) => {
  const username = `op_${unique()}`;
  const password = `correct horse ${unique()}`;
  const email = `${username}@example.com`;
  const registered = await client.post('/api/auth/register', { body: { email, username, password } });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${registered.text}`);
  const login = await client.post('/api/auth/login', { body: { username, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { id: registered.body.id as string, username, password, email, token: login.body.access_token as string };
};

/** Creates an app for an operator; returns its id and the API key shown once. */
export const newApp = async (client: Client, token: string, policy?: object) => {
  const created = await client.post('/api/app', { token, body: { name: `App ${unique()}`, ...(policy ? { policy } : {}) } });
  if (created.status !== 201) throw new Error(`create app failed: ${created.status} ${created.text}`);
  return { id: created.body.id as string, apiKey: created.body.api_key as string, name: created.body.name as string };
};

export type OutboxMessage = { channel: string; to: string; subject?: string; body: string; challenge_id: string; at: string };

/** Complete lines only: the service may be appending one while this reads (the last, without its newline yet). */
export const readOutbox = (file: string): OutboxMessage[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .slice(0, -1)
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as OutboxMessage)
    : [];

/**
 * The code in the newest outbox message of a challenge. Delivery is asynchronous (a worker
 * sends from the log), so this waits for the `nth` message of the challenge to land.
 */
export const codeFromOutbox = async (file: string, challengeId: string, nth = 1, timeoutMs = 5000): Promise<string> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = readOutbox(file).filter((m) => m.challenge_id === challengeId);
    const last = messages.length >= nth ? messages[messages.length - 1] : undefined;
    const match = last ? /\b(\d{4,10})\b/.exec(last.body) : null;
    if (match) return match[1]!;
    if (Date.now() > deadline) throw new Error(`no code (message ${nth}) in the outbox for ${challengeId}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

// ------------------------------------------------------------ security end-to-end helpers

export type TotpParams = { readonly digits: 6 | 8; readonly period: 30 | 60; readonly algorithm: 'SHA1' | 'SHA256' | 'SHA512' };
export const defaultTotpParams: TotpParams = { digits: 6, period: 30, algorithm: 'SHA1' };

const totpCodes = createTotp();

/** The TOTP code of `secret` at `at`. */
export const totpAt = (secret: string, at: Date, params: TotpParams = defaultTotpParams): string => totpCodes.generate(secret, params, at);

/** A code of the same length as `codes[0]` that equals none of them: wrong by construction, not by luck. */
export const wrongCode = (...codes: string[]): string => {
  const length = codes[0]?.length ?? 6;
  for (let digit = 0; digit < 10; digit++) {
    const candidate = String(digit).repeat(length);
    if (!codes.includes(candidate)) return candidate;
  }
  throw new Error('unreachable: ten candidates cannot all collide with a handful of codes');
};

/**
 * Registers and enables TOTP for `username` with the app's key at the clock's current step
 * (that step is then consumed). Returns the secret and the recovery codes shown once.
 */
export const enrollTotp = async (
  client: Client,
  apiKey: string,
  username: string,
  clock: () => Date,
  options: { params?: TotpParams; secret?: string } = {},
) => {
  const registered = await client.post('/api/otp/register', { apiKey, body: { username, otp_method: 'TOTP', ...(options.secret ? { secret: options.secret } : {}) } });
  if (registered.status !== 201) throw new Error(`otp register failed: ${registered.status} ${registered.text}`);
  const secret = registered.body.secret as string;
  const enabled = await client.put('/api/otp/enable', { apiKey, body: { username, otp: totpAt(secret, clock(), options.params) } });
  if (enabled.status !== 200) throw new Error(`otp enable failed: ${enabled.status} ${enabled.text}`);
  return { secret, enrollmentId: registered.body.enrollment_id as string, recoveryCodes: enabled.body.recovery_codes as string[] };
};

/** Sends an email code with the app's key; returns the challenge id and the code from the outbox. */
export const sendEmailCode = async (client: Client, outboxFile: string, apiKey: string, username: string, to = `${username}@example.com`) => {
  const sent = await client.post('/api/code/send', { apiKey, body: { username, channel: 'EMAIL', to } });
  if (sent.status !== 202) throw new Error(`send failed: ${sent.status} ${sent.text}`);
  const challengeId = sent.body.challenge_id as string;
  return { challengeId, code: await codeFromOutbox(outboxFile, challengeId) };
};

/** What a caller can tell apart in an error answer (the request id differs by design). */
export const errorShape = (response: { status: number; body: any; headers: Headers }) => ({
  status: response.status,
  code: response.body?.code,
  message: response.body?.message,
  details: response.body?.details,
  attempts_remaining: response.body?.attempts_remaining,
  keys: Object.keys(response.body ?? {}).sort(),
  retry_after: response.headers.has('retry-after'),
});

/**
 * An operator ("owner") and an app of theirs, through the handlers, without HTTP: the app as its
 * API key's callers see it, and the key.
 */
export const ownedApp = async (handlers: Handlers, policy?: PolicyPatch): Promise<{ app: ActiveApp; apiKey: string }> => {
  const owner = await handlers.registerAccount({ email: 'owner@example.com', username: 'owner', password: 'a long enough password', client_ip: '127.0.0.1' });
  if (owner._tag === 'Left') throw new Error(owner.left.message);
  const created = await handlers.createApp({ owner_id: owner.right.id, name: 'Acme', ...(policy ? { policy } : {}) });
  if (created._tag === 'Left') throw new Error(created.left.message);
  const app = await handlers.authenticateApiKey(created.right.api_key);
  if (!app) throw new Error('the new API key does not authenticate');
  return { app, apiKey: created.right.api_key };
};
