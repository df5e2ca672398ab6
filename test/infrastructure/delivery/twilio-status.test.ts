import { describe, expect, it } from '@jest/globals';
import { readTwilioReceipt, readTwilioStatus, twilioProvider } from '../../../src/infrastructure/delivery/twilio-status.js';

describe("reading Twilio's status callback", () => {
  const form = (fields: Record<string, string>) => ({ MessageSid: 'SM1', To: '+34612345678', From: '+15005550006', ...fields });

  it('takes only failed and undelivered as failures; every other status is no failure', () => {
    for (const status of ['queued', 'sending', 'sent', 'delivered', 'read', 'accepted', 'canceled', ''])
      expect(readTwilioStatus(form({ MessageStatus: status }), 'twilio-sms')).toBeUndefined();
    expect(readTwilioStatus(form({ MessageStatus: 'failed', ErrorCode: '30008' }), 'twilio-sms')).toEqual({
      reason: 'twilio-sms: failed (30008), reported after Twilio accepted the message',
      throttled: false,
    });
  });

  it("tells Twilio's own pace (queue overflow, A2P rate, WhatsApp rate) from the recipient's failures", () => {
    for (const code of ['30001', '30022', '63018']) expect(readTwilioStatus(form({ MessageStatus: 'undelivered', ErrorCode: code }), 'twilio-sms')?.throttled).toBe(true);
    for (const code of ['30003', '30005', '30006', '30007', '30027', '63003', '63016']) expect(readTwilioStatus(form({ MessageStatus: 'undelivered', ErrorCode: code }), 'twilio-sms')?.throttled).toBe(false);
  });

  it('takes 14107 (SMS rate limit between two numbers, a 30-second pause) as throttled, reported as a failed status', () => {
    expect(readTwilioStatus(form({ MessageStatus: 'failed', ErrorCode: '14107' }), 'twilio-sms')).toEqual({
      reason: 'twilio-sms: failed (14107), reported after Twilio accepted the message',
      throttled: true,
    });
  });

  it('puts only a numeric error code in the reason, never the numbers or other text', () => {
    const reason = readTwilioStatus(form({ MessageStatus: 'undelivered', ErrorCode: "+34612345678 isn't" }), 'twilio-whatsapp')!.reason;
    expect(reason).toBe('twilio-whatsapp: undelivered (no error code), reported after Twilio accepted the message');
    expect(reason).not.toContain('612345678');
  });

  it('reads delivered and read as receipts, and no other status', () => {
    expect(readTwilioReceipt(form({ MessageStatus: 'delivered' }))).toEqual({ read: false });
    expect(readTwilioReceipt(form({ MessageStatus: 'read' }))).toEqual({ read: true });
    for (const status of ['queued', 'sending', 'sent', 'failed', 'undelivered', 'accepted', 'canceled', 'Delivered', '']) expect(readTwilioReceipt(form({ MessageStatus: status }))).toBeUndefined();
    expect(readTwilioReceipt({})).toBeUndefined();
  });

  it('names the providers as the senders record them', () => {
    expect([twilioProvider('SMS'), twilioProvider('WHATSAPP')]).toEqual(['twilio-sms', 'twilio-whatsapp']);
  });
});
