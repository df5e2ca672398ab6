/**
 * Which address per-IP limits count (TRUST_PROXY). Behind N proxies that each append the
 * address they saw to X-Forwarded-For, only the last N entries are theirs; what is left of them
 * came from the client, which can write anything there. Seen through per-IP login throttling:
 * two attempts a minute per address, each from a new username so per-account throttling never
 * answers.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createClient } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('client address for per-IP limits', () => {
  let server: TestServer | undefined;
  let n = 0;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (trustedProxies: number) => {
    server = await startTestServer({ trustedProxies, limits: { loginAttemptsPerIpPerMinute: 2 } });
    const client = createClient(server.url);
    return (forwardedFor?: string) =>
      client
        .post('/api/auth/login', {
          body: { username: `nobody_${n++}`, password: 'not the password at all' },
          ...(forwardedFor === undefined ? {} : { headers: { 'x-forwarded-for': forwardedFor } }),
        })
        .then((response) => response.status);
  };

  it('behind one proxy, counts the address it saw, whatever the client wrote before it', async () => {
    const login = await start(1);
    // The client forges a new address each time; the proxy appends the real one.
    expect(await login('198.51.100.1, 203.0.113.7')).toBe(401);
    expect(await login('198.51.100.2, 203.0.113.7')).toBe(401);
    expect(await login('198.51.100.3, 203.0.113.7')).toBe(429);
    expect(await login('203.0.113.7')).toBe(429);
    // Another client behind the same proxy has its own allowance.
    expect(await login('203.0.113.7, 203.0.113.8')).toBe(401);
  });

  it('behind two proxies, counts the address the outer one saw', async () => {
    const login = await start(2);
    // forged, the client as the outer proxy saw it, the outer proxy as the inner one saw it
    expect(await login('198.51.100.1, 203.0.113.7, 10.0.0.2')).toBe(401);
    expect(await login('198.51.100.2, 203.0.113.7, 10.0.0.3')).toBe(401);
    expect(await login('203.0.113.7, 10.0.0.2')).toBe(429);
    expect(await login('198.51.100.1, 203.0.113.9, 10.0.0.2')).toBe(401);
  });

  it('without trusted proxies, ignores X-Forwarded-For and counts the connecting address', async () => {
    const login = await start(0);
    expect(await login('203.0.113.1')).toBe(401);
    expect(await login('203.0.113.2')).toBe(401);
    expect(await login('203.0.113.3')).toBe(429);
    expect(await login()).toBe(429);
  });
});
