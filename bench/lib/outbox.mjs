// Follows the service's development outbox (JSON lines) and hands each challenge's code to whoever waits for it.
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

const CODE = /\b(\d{6})\b/; // the app keeps the default code_length of 6

export const followOutbox = (file, { pollMs = 5 } = {}) => {
  const arrived = new Map(); // challenge_id -> code, for codes that came before anyone asked
  const waiting = new Map(); // challenge_id -> resolve
  let handle;
  let offset = 0;
  let partial = '';
  let busy = false;
  const buffer = Buffer.alloc(1 << 20);
  const decoder = new StringDecoder('utf8'); // a read may end inside a character
  let lines = 0;

  const take = (line) => {
    lines += 1;
    const message = JSON.parse(line);
    const code = CODE.exec(message.body)?.[1];
    if (!code) return;
    const resolve = waiting.get(message.challenge_id);
    if (resolve) {
      waiting.delete(message.challenge_id);
      resolve(code);
    } else arrived.set(message.challenge_id, code);
  };

  const read = async () => {
    if (busy) return;
    busy = true;
    try {
      handle ??= await open(file, 'r').catch(() => undefined);
      if (!handle) return;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const text = partial + decoder.write(buffer.subarray(0, bytesRead));
        const parts = text.split('\n');
        partial = parts.pop();
        parts.filter(Boolean).forEach(take);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void read(), pollMs);

  return {
    /** Resolves with the code sent for this challenge, or null after `timeoutMs`. */
    codeFor: (challengeId, timeoutMs) => {
      const code = arrived.get(challengeId);
      if (code) {
        arrived.delete(challengeId);
        return Promise.resolve(code);
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(challengeId);
          resolve(null);
        }, timeoutMs);
        waiting.set(challengeId, (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
    },
    lines: () => lines,
    close: async () => {
      clearInterval(timer);
      await handle?.close();
    },
  };
};
