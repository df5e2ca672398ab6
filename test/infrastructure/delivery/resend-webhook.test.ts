import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createResendSignatureCheck } from '../../../src/infrastructure/delivery/resend-signature.js';
import { readResendEvent, readResendReceipt, resendTagsFor } from '../../../src/infrastructure/delivery/resend-events.js';
import { resendSignature } from '../../support/fake-resend.js';

// The example of the Standard Webhooks specification (as Svix, which signs Resend's webhooks, documents it).
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = 1614265330;
const payload = '{"test": 2432232314}';
const documented = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

describe("Resend's webhook signature", () => {
  afterEach(() => {
    jest.useRealTimers();
  });
  const at = (seconds: number) => {
    jest.useFakeTimers();
    jest.setSystemTime(seconds * 1000);
  };

  it('the fake Resend signs as the specification says', () => {
    expect(resendSignature(secret, id, timestamp, payload)).toBe(documented);
  });

  it("the service's check takes the documented signature, and refuses the body, id, timestamp or secret changed", async () => {
    const check = await createResendSignatureCheck(secret);
    at(timestamp + 10);
    expect(check(payload, { id, timestamp: String(timestamp), signature: documented })).toEqual({ test: 2432232314 });
    // Svix sends several signatures during a secret's rotation: any one of them will do.
    expect(check(payload, { id, timestamp: String(timestamp), signature: `v1,bm90IHRoaXMgb25l ${documented}` })).toEqual({ test: 2432232314 });
    expect(check('{"test": 2432232315}', { id, timestamp: String(timestamp), signature: documented })).toBeUndefined();
    expect(check(payload, { id: `${id}x`, timestamp: String(timestamp), signature: documented })).toBeUndefined();
    expect(check(payload, { id, timestamp: String(timestamp + 1), signature: documented })).toBeUndefined();
    expect(check(payload, { id, timestamp: String(timestamp), signature: '' })).toBeUndefined();
    expect(check(payload, { id, timestamp: String(timestamp), signature: documented.replace('v1,', 'v2,') })).toBeUndefined();
    expect((await createResendSignatureCheck(`whsec_${Buffer.from('another secret of 24 b..').toString('base64')}`))(payload, { id, timestamp: String(timestamp), signature: documented })).toBeUndefined();
  });

  it('refuses a call signed more than 5 minutes from now either way: a recorded call cannot be replayed later', async () => {
    const check = await createResendSignatureCheck(secret);
    const signed = { id, timestamp: String(timestamp), signature: documented };
    at(timestamp + 299);
    expect(check(payload, signed)).toBeDefined();
    at(timestamp + 301);
    expect(check(payload, signed)).toBeUndefined();
    at(timestamp - 301);
    expect(check(payload, signed)).toBeUndefined();
  });

  it('is not built from a secret without the whsec_ prefix', async () => {
    await expect(createResendSignatureCheck('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).rejects.toThrow('RESEND_WEBHOOK_SECRET');
  });
});

describe("Resend's webhook events", () => {
  const challenge = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const tags = Object.fromEntries(resendTagsFor({ challenge_id: challenge, send: 3 }).map((tag) => [tag.name, tag.value]));
  const event = (type: string, data: Record<string, unknown> = {}) => ({
    type,
    created_at: '2026-12-01T10:00:00.000Z',
    data: { email_id: 'e1', from: 'codes@acme.example', to: ['alice@example.com'], subject: 'Your code', tags, ...data },
  });

  it('reads the failures for the challenge and send the tags name, with the reason in Resend\'s own words only', () => {
    expect(readResendEvent(event('email.bounced', { bounce: { type: 'Transient', subType: 'MailboxFull', message: 'alice@example.com: mailbox full' } }))).toEqual({
      challenge_id: challenge,
      send: 3,
      reason: 'resend: bounced (Transient, MailboxFull), reported after Resend accepted the email',
    });
    expect(readResendEvent(event('email.suppressed', { suppressed: { type: 'Complaint', message: 'alice@example.com complained' } }))?.reason).toBe(
      'resend: suppressed (Complaint), reported after Resend accepted the email',
    );
    expect(readResendEvent(event('email.failed', { failed: { reason: 'alice@example.com refused' } }))?.reason).toBe('resend: failed, reported after Resend accepted the email');
    // A type that is not one word of Resend's vocabulary is left out, not quoted.
    expect(readResendEvent(event('email.bounced', { bounce: { type: 'Permanent', subType: 'alice@example.com' } }))?.reason).toBe('resend: bounced (Permanent), reported after Resend accepted the email');
    expect(readResendEvent(event('email.bounced'))?.reason).toBe('resend: bounced, reported after Resend accepted the email');
  });

  it('ignores every other event, and emails without tags of the service (another sender on the account)', () => {
    for (const type of ['email.sent', 'email.delivered', 'email.delivery_delayed', 'email.complained', 'email.opened', 'email.clicked', 'contact.created'])
      expect(readResendEvent(event(type))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { tags: undefined }))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { tags: { campaign: 'news' } }))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { tags: { ...tags, otp_challenge_id: 'not-a-uuid' } }))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { tags: { ...tags, otp_send: '0' } }))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { tags: { ...tags, otp_send: '1.5' } }))).toBeUndefined();
    for (const junk of [null, 'email.bounced', [], { type: 'email.bounced' }, { type: 'email.bounced', data: null }]) expect(readResendEvent(junk)).toBeUndefined();
  });

  it('reads tags written as an array of {name, value} (as Resend\'s webhook body parameters document them) as the object form', () => {
    const listed = resendTagsFor({ challenge_id: challenge, send: 3 });
    const bounce = { bounce: { type: 'Permanent', subType: 'General' } };
    expect(readResendEvent(event('email.bounced', { ...bounce, tags: listed }))).toEqual(readResendEvent(event('email.bounced', bounce)));
    expect(readResendEvent(event('email.bounced', { ...bounce, tags: listed }))).toEqual({
      challenge_id: challenge,
      send: 3,
      reason: 'resend: bounced (Permanent, General), reported after Resend accepted the email',
    });
    expect(readResendReceipt(event('email.delivered', { tags: [{ name: 'campaign', value: 'news' }, ...listed] }))).toEqual({ challenge_id: challenge, send: 3 });
    // Not the service's: no tags of its own, or junk in their place.
    expect(readResendEvent(event('email.bounced', { ...bounce, tags: [] }))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { ...bounce, tags: [{ name: 'campaign', value: 'news' }] }))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { ...bounce, tags: [null, 'otp_send', { value: '3' }, ...listed.slice(0, 1)] }))).toBeUndefined();
    expect(readResendEvent(event('email.bounced', { ...bounce, tags: [...listed, { name: 'otp_send', value: '0' }] }))).toBeUndefined();
    // The same name twice with another value names neither.
    expect(readResendEvent(event('email.bounced', { ...bounce, tags: [...listed, { name: 'otp_send', value: '4' }] }))).toBeUndefined();
  });

  it('reads email.delivered as the receipt of the send the tags name, and nothing else as one (no opens: they need a tracking pixel)', () => {
    expect(readResendReceipt(event('email.delivered'))).toEqual({ challenge_id: challenge, send: 3 });
    for (const type of ['email.sent', 'email.bounced', 'email.delivery_delayed', 'email.complained', 'email.opened', 'email.clicked'])
      expect(readResendReceipt(event(type))).toBeUndefined();
    expect(readResendReceipt(event('email.delivered', { tags: { campaign: 'news' } }))).toBeUndefined();
    expect(readResendReceipt(event('email.delivered', { tags: { ...tags, otp_send: '0' } }))).toBeUndefined();
    for (const junk of [null, 'email.delivered', { type: 'email.delivered' }, { type: 'email.delivered', data: null }]) expect(readResendReceipt(junk)).toBeUndefined();
  });
});
