// Setup through the service's public HTTP API: an operator, an app, enrolled TOTP users.
import { createTotp } from '../../dist/infrastructure/otp/totp.js';

export const totp = createTotp();
export const TOTP_PARAMS = { digits: 6, period: 30, algorithm: 'SHA1' };
export const stepAt = (ms) => Math.floor(ms / 1000 / TOTP_PARAMS.period);

export const createClient = (base) => async (method, path, body, headers = {}) => {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  return { status: response.status, json };
};

const expectStatus = (what, res, status) => {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.json?.code ?? res.json)}`);
  return res.json;
};

/** Policy loose enough that only the code under test decides the answer, never a cap. */
export const benchPolicy = {
  max_sends_per_recipient_per_hour: 1000,
  max_sends_per_app_per_day: 10_000_000,
  max_sends_per_number_block_per_hour: 100_000,
  resend_cooldown_seconds: 0,
  max_attempts: 20,
};

export const createOperatorApp = async (call) => {
  const operator = { email: 'bench@example.com', username: 'bench', password: 'bench password not secret' };
  expectStatus('register operator', await call('POST', '/api/auth/register', operator), 201);
  const { access_token } = expectStatus('login', await call('POST', '/api/auth/login', { username: operator.username, password: operator.password }), 200);
  const app = expectStatus('create app', await call('POST', '/api/app', { name: 'Bench', policy: benchPolicy }, { authorization: `Bearer ${access_token}` }), 201);
  return { apiKey: app.api_key, appId: app.id ?? app.app_id };
};

/** Runs `task(item)` over items with at most `concurrency` in flight. */
export const inPool = async (items, concurrency, task) => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
};

/**
 * Enrolls `count` TOTP users (register, then enable with the current code). Each user's
 * `usedStep` is the step its enabling code consumed: that code cannot verify again.
 */
export const enrollTotpUsers = async (call, apiKey, count, { prefix = 'u', concurrency = 32 } = {}) => {
  const headers = { 'x-api-key': apiKey };
  const users = Array.from({ length: count }, (_, i) => ({ username: `${prefix}${i}`, secret: '', usedStep: -1 }));
  await inPool(users, concurrency, async (user) => {
    const started = expectStatus('otp register', await call('POST', '/api/otp/register', { username: user.username, otp_method: 'TOTP' }, headers), 201);
    user.secret = started.secret;
    const at = Date.now();
    const otp = totp.generate(user.secret, TOTP_PARAMS, new Date(at));
    expectStatus('otp enable', await call('PUT', '/api/otp/enable', { username: user.username, otp }, headers), 200);
    user.usedStep = stepAt(at);
  });
  return users;
};
