import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutgoingMessage } from '../../../src/application/ports.js';
import { createOutboxSender } from '../../../src/infrastructure/delivery/outbox-sender.js';

const at = new Date('2025-03-01T10:00:00.000Z');
const readLines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('outbox sender', () => {
  let root: string;
  let file: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'otp-outbox-'));
    file = join(root, 'deep', 'dir', 'outbox.jsonl');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('creates the directory and appends one JSON line per message, owner-readable only', async () => {
    const send = createOutboxSender({ file, clock: () => at });
    await send({ channel: 'EMAIL', to: 'ana@example.com', subject: 'Your code', body: 'Code 123456', html: '<b>x</b>', challenge_id: 'c1', send: 1, attempt: 1, idempotency_key: 'k-c1' });
    await send({ channel: 'SMS', to: '+34600000001', body: 'Code 654321', challenge_id: 'c2', send: 1, attempt: 1, idempotency_key: 'k-c2' });

    expect(await readLines(file)).toEqual([
      { channel: 'EMAIL', to: 'ana@example.com', subject: 'Your code', body: 'Code 123456', challenge_id: 'c1', at: at.toISOString() },
      { channel: 'SMS', to: '+34600000001', body: 'Code 654321', challenge_id: 'c2', at: at.toISOString() },
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('keeps lines whole and in send order when many large messages are sent at once', async () => {
    const send = createOutboxSender({ file, clock: () => at });
    // Large bodies: overlapping appends could split lines, and they visibly reorder them.
    const messages: OutgoingMessage[] = Array.from({ length: 40 }, (_, i) => ({
      channel: 'WHATSAPP',
      to: `+3460000${String(i).padStart(4, '0')}`,
      body: String(i % 10).repeat(200_000),
      challenge_id: `challenge-${i}`,
      send: 1,
      attempt: 1,
      idempotency_key: `otp-code/challenge-${i}/1/WHATSAPP`,
    }));
    await Promise.all(messages.map(send));

    const lines = await readLines(file);
    expect(lines).toHaveLength(40);
    expect(lines.map((line) => line['challenge_id'])).toEqual(messages.map((m) => m.challenge_id));
    for (const [i, line] of lines.entries()) expect(line['body']).toBe(messages[i]?.body);
  });

  it('rejects a failed send and keeps working for the next one', async () => {
    const blocked = join(root, 'not-a-dir');
    const send = createOutboxSender({ file: join(blocked, 'outbox.jsonl'), clock: () => at });
    await writeFile(blocked, 'a file where the directory should be');
    await expect(send({ channel: 'SMS', to: '+1', body: 'b', challenge_id: 'x', send: 1, attempt: 1, idempotency_key: 'k-x' })).rejects.toThrow();

    await rm(blocked);
    await send({ channel: 'SMS', to: '+1', body: 'b', challenge_id: 'y', send: 1, attempt: 1, idempotency_key: 'k-y' });
    expect((await readLines(join(blocked, 'outbox.jsonl'))).map((line) => line['challenge_id'])).toEqual(['y']);
  });
});
