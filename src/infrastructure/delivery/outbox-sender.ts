/**
 * Development "delivery": appends each message as a JSON line to a local file instead of
 * sending it. The file holds live codes, so it is created readable by the owner only.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, MessageSender, OutgoingMessage } from '../../application/ports.js';

export type OutboxSenderOptions = { readonly file: string; readonly clock: Clock };

const toLine = (message: OutgoingMessage, at: Date): string =>
  `${JSON.stringify({
    channel: message.channel,
    to: message.to,
    ...(message.subject === undefined ? {} : { subject: message.subject }),
    body: message.body,
    challenge_id: message.challenge_id,
    at: at.toISOString(),
  })}\n`;

export const createOutboxSender = (options: OutboxSenderOptions): MessageSender => {
  let ready: Promise<unknown> | undefined;
  // One append at a time: large lines written concurrently could otherwise interleave.
  let tail: Promise<unknown> = Promise.resolve();

  const append = async (line: string): Promise<void> => {
    ready ??= mkdir(dirname(options.file), { recursive: true }).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    await ready;
    await appendFile(options.file, line, { encoding: 'utf8', mode: 0o600 });
  };

  return (message) => {
    const line = toLine(message, options.clock());
    const sent = tail.then(() => append(line));
    tail = sent.catch(() => undefined);
    return sent;
  };
};
