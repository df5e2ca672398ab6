import { describe, expect, it } from '@jest/globals';
import { createTwilioSignatureCheck } from '../../../src/infrastructure/delivery/twilio-signature.js';
import { twilioSignature } from '../../support/fake-twilio.js';

// The example of Twilio's documentation ("Validating signatures from Twilio").
const token = '12345';
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
const documented = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';

describe('X-Twilio-Signature', () => {
  it("the fake Twilio signs as Twilio's documentation says", () => {
    expect(twilioSignature(token, url, params)).toBe(documented);
  });

  it("the service's check takes the documented signature, and refuses any field, the URL or the token changed", async () => {
    const check = await createTwilioSignatureCheck(token);
    expect(check(url, params, documented)).toBe(true);
    // Twilio may sign the URL with its default port or without: both are the same call.
    expect(check('https://mycompany.com:443/myapp.php?foo=1&bar=2', params, documented)).toBe(true);
    expect(check(url, { ...params, Digits: '1235' }, documented)).toBe(false);
    expect(check(url, { ...params, Extra: '' }, documented)).toBe(false);
    expect(check('https://mycompany.com/myapp.php?foo=1&bar=3', params, documented)).toBe(false);
    expect(check(url, params, '')).toBe(false);
    expect(check(url, params, documented.slice(0, -2))).toBe(false);
    expect((await createTwilioSignatureCheck('54321'))(url, params, documented)).toBe(false);
  });

  it('takes the token before a rotation as well, while Twilio still signs with it, and no third one', async () => {
    const rotating = await createTwilioSignatureCheck('new-token-0000', token);
    expect(rotating(url, params, documented)).toBe(true);
    expect(rotating(url, params, twilioSignature('new-token-0000', url, params))).toBe(true);
    expect(rotating(url, params, twilioSignature('another-token', url, params))).toBe(false);
  });
});
