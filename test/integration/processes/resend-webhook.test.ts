/**
 * The real entry point (src/interfaces/main.ts, compiled) wires Resend's webhooks from the
 * environment: with RESEND_WEBHOOK_SECRET the route checks the signature under it; without it
 * the start says bounces are not seen and the route answers 404. No email is sent here
 * (Resend's API is out of reach): the sending side is tested against the fake Resend in e2e.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { resendSignature } from '../../support/fake-resend.js';
import { compileService, processScratch, startServiceProcess } from '../../support/service-process.js';

const resend = { RESEND_API_KEY: 're_test_0000000000000000', EMAIL_ADDRESS: 'codes@acme.example' };
const secret = `whsec_${Buffer.from('a signing secret of 24 b.').toString('base64')}`;
const route = '/api/webhooks/resend';
const body = JSON.stringify({
  type: 'email.bounced',
  created_at: new Date().toISOString(),
  data: { email_id: 'e1', tags: { otp_challenge_id: '00000000-0000-4000-8000-000000000000', otp_send: '1' }, bounce: { type: 'Permanent', subType: 'General' } },
});

const post = (url: string, signWith?: string) => {
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'svix-id': 'msg_1', 'svix-timestamp': String(timestamp), ...(signWith ? { 'svix-signature': resendSignature(signWith, 'msg_1', timestamp, body) } : {}) },
    body,
  });
};

describe("Resend's webhooks in the service process", () => {
  const scratch = processScratch();
  beforeAll(async () => {
    await compileService();
  }, 120_000);
  afterAll(() => scratch.cleanUp(), 30_000);

  it('with RESEND_WEBHOOK_SECRET: signed calls are taken, unsigned or wrongly signed ones refused', async () => {
    const dir = scratch.dir('resend-webhook');
    const service = await startServiceProcess({ env: { DATA_DIR: dir.path, ...resend, RESEND_WEBHOOK_SECRET: secret } });
    expect((await post(`${service.url}${route}`, secret)).status).toBe(204); // an unknown challenge: nothing to do
    expect((await post(`${service.url}${route}`)).status).toBe(403);
    expect((await post(`${service.url}${route}`, `whsec_${Buffer.from('another secret of 24 b...').toString('base64')}`)).status).toBe(403);
    // No line says the webhooks are off, and none holds the secret.
    expect(service.lines.some((line) => line.includes('RESEND_WEBHOOK_SECRET'))).toBe(false);
    expect(service.lines.some((line) => line.includes(secret.slice('whsec_'.length)))).toBe(false);
  }, 60_000);

  it('without RESEND_WEBHOOK_SECRET: the start says bounces are not seen, and the route answers 404', async () => {
    const dir = scratch.dir('resend-webhook-off');
    const service = await startServiceProcess({ env: { DATA_DIR: dir.path, ...resend } });
    await service.waitForLine((line) => line.includes('RESEND_WEBHOOK_SECRET is not set'));
    expect((await post(`${service.url}${route}`, secret)).status).toBe(404);
  }, 60_000);
});
