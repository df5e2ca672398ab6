/**
 * The real entry point (src/interfaces/main.ts, compiled) wires Twilio's status callbacks from
 * the environment: with PUBLIC_URL and TWILIO_*, the route checks X-Twilio-Signature under
 * TWILIO_AUTH_TOKEN against PUBLIC_URL (with a path prefix a proxy strips); without PUBLIC_URL
 * the start says what is not seen and the route answers 404. No message is sent here (Twilio's
 * API is out of reach): the sending side is tested against the fake Twilio in e2e.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { twilioSignature } from '../../support/fake-twilio.js';
import { compileService, processScratch, startServiceProcess } from '../../support/service-process.js';

const twilio = { TWILIO_ACCOUNT_SID: `AC${'0a1b2c3d'.repeat(4)}`, TWILIO_AUTH_TOKEN: 'f00dfeed5ca1ab1e0ddba11c0ffee123', TWILIO_PHONE_NUMBER: '+15005550006' };
const route = '/api/webhooks/twilio/status';
const query = '?challenge_id=00000000-0000-4000-8000-000000000000&send=1&attempt=1&channel=SMS';
const form = { MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30003' };

const post = (url: string, signature?: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
    body: new URLSearchParams(form).toString(),
  });

describe('Twilio status callbacks in the service process', () => {
  const scratch = processScratch();
  beforeAll(async () => {
    await compileService();
  }, 120_000);
  afterAll(() => scratch.cleanUp(), 30_000);

  it('with PUBLIC_URL: signed calls are taken, unsigned or wrongly signed ones refused', async () => {
    const dir = scratch.dir('twilio-status');
    const publicUrl = 'https://otp.example.com/verify';
    const service = await startServiceProcess({ env: { DATA_DIR: dir.path, PUBLIC_URL: `${publicUrl}/`, ...twilio } });
    const local = `${service.url}${route}${query}`;
    const signed = twilioSignature(twilio.TWILIO_AUTH_TOKEN, `${publicUrl}${route}${query}`, form);
    expect((await post(local, signed)).status).toBe(204); // an unknown challenge: nothing to do
    expect((await post(local)).status).toBe(403);
    expect((await post(local, twilioSignature('another-token-0000000000000000000', `${publicUrl}${route}${query}`, form))).status).toBe(403);
    // Signed for the URL without the prefix PUBLIC_URL names: not the URL Twilio was given.
    expect((await post(local, twilioSignature(twilio.TWILIO_AUTH_TOKEN, `https://otp.example.com${route}${query}`, form))).status).toBe(403);
    expect(service.lines.some((line) => line.includes('PUBLIC_URL'))).toBe(false);
  }, 60_000);

  it('during an auth token rotation, takes calls signed with the token before it (TWILIO_PREVIOUS_AUTH_TOKEN)', async () => {
    const dir = scratch.dir('twilio-status-rotation');
    const publicUrl = 'https://otp.example.com';
    const service = await startServiceProcess({
      env: { DATA_DIR: dir.path, PUBLIC_URL: publicUrl, ...twilio, TWILIO_AUTH_TOKEN: 'a-new-token-00000000000000000000', TWILIO_PREVIOUS_AUTH_TOKEN: twilio.TWILIO_AUTH_TOKEN },
    });
    const local = `${service.url}${route}${query}`;
    expect((await post(local, twilioSignature(twilio.TWILIO_AUTH_TOKEN, `${publicUrl}${route}${query}`, form))).status).toBe(204);
    expect((await post(local, twilioSignature('a-new-token-00000000000000000000', `${publicUrl}${route}${query}`, form))).status).toBe(204);
    expect((await post(local, twilioSignature('a-third-token-000000000000000000', `${publicUrl}${route}${query}`, form))).status).toBe(403);
  }, 60_000);

  it('without PUBLIC_URL: the start warns that later failures are not seen, and the route answers 404', async () => {
    const dir = scratch.dir('twilio-status-off');
    const service = await startServiceProcess({ env: { DATA_DIR: dir.path, ...twilio } });
    const warning = JSON.parse(await service.waitForLine((line) => line.includes('PUBLIC_URL is not set'))) as { level: string };
    expect(warning.level).toBe('warn');
    expect((await post(`${service.url}${route}${query}`, 'x')).status).toBe(404);
  }, 60_000);

  it('warns when PUBLIC_URL is plain http', async () => {
    const dir = scratch.dir('twilio-status-http');
    const service = await startServiceProcess({ env: { DATA_DIR: dir.path, PUBLIC_URL: 'http://otp.example.com', ...twilio } });
    await service.waitForLine((line) => line.includes('PUBLIC_URL is plain http'));
  }, 60_000);
});
