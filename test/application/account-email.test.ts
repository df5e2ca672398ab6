/**
 * Operator emails are kept in lower case and NFC; addresses stored by earlier builds (lower
 * case only, so possibly decomposed) are still found, and still count as taken.
 */
import { describe, expect, it } from '@jest/globals';
import { emailKey, emailKeys, findByEmail } from '../../src/application/accounts/email.js';

const composed = 'jos\u00e9@example.com';
const decomposed = 'jose\u0301@example.com';

/** account_emails holding one document under `key`. */
const storedUnder = (key: string) => ({ get: async (collection: string, id: string) => (collection === 'account_emails' && id === key ? { account_id: 'acc-1' } : undefined) });

describe('operator email keys', () => {
  it('keys an address in lower case and NFC however it was typed', () => {
    for (const typed of [composed, decomposed, 'JOSE\u0301@EXAMPLE.COM']) expect(emailKey(typed)).toBe(composed);
    expect(emailKeys('ann@example.com')).toEqual(['ann@example.com']); // ASCII: one look-up
  });

  it('finds an account stored by an earlier build, in whichever form it was typed then', async () => {
    for (const stored of [composed, decomposed])
      for (const typed of [composed, decomposed]) expect([stored, typed, await findByEmail(storedUnder(stored), typed)]).toEqual([stored, typed, { account_id: 'acc-1' }]);
    expect(await findByEmail(storedUnder(composed), 'someone@example.com')).toBeUndefined();
  });
});
