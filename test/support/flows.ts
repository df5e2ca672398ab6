import { readFileSync, existsSync } from 'node:fs';
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

export const readOutbox = (file: string): OutboxMessage[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
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
