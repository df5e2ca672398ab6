import { describe, expect, it } from '@jest/globals';
import { keyShape, redisStatement } from '../../../src/infrastructure/telemetry/redis-statement.js';

describe("a Redis span's statement: the command and its first key's fixed words, never a value", () => {
  const script = `-- ${'local x = redis.call("GET", KEYS[1]) '.repeat(150)}`;

  it('keeps the words of the key schema and stops at the first id, address or digest', () => {
    expect(keyShape('otp-verify:rl:login-ip:127.0.0.1')).toBe('otp-verify:rl:login-ip:*');
    expect(keyShape('otp-verify:rl:login-ip:fe80::1')).toBe('otp-verify:rl:login-ip:*');
    expect(keyShape('otp-verify:rl:login-ip:abcd:ef::')).toBe('otp-verify:rl:login-ip:*');
    expect(keyShape('otp-verify:claim:totp:3f2a9c1e-1b2c-4d5e-8f90-123456789abc:k1:1234')).toBe('otp-verify:claim:totp:*');
    expect(keyShape('otp-verify:decoy:{3f2a9c1e-1b2c-4d5e-8f90-123456789abc}:counts')).toBe('otp-verify:decoy:*');
    expect(keyShape('otp-verify:rl:send-to:app:Xy_9kQ')).toBe('otp-verify:rl:send-to:app:*');
    expect(keyShape('test:s1a2b3:rl:login-ip:10.0.0.1')).toBe('test:*');
    expect(keyShape('otp-verify:log:sealed')).toBe('otp-verify:log:sealed');
    expect(keyShape('deadbeef')).toBe('*');
  });

  it('writes evalsha and eval with the first key only: no script, digest or argument', () => {
    const evalsha = redisStatement('evalsha', ['e0e1f9fabfc9d4800c877a703b823ac0578ff831', '2', 'otp-verify:rl:login-ip:127.0.0.1', 'otp-verify:rl:login-ip:127.0.0.1:seq', '60', '10', '127.0.0.1']);
    expect(evalsha).toBe('evalsha otp-verify:rl:login-ip:*');
    expect(redisStatement('eval', [script, 1, Buffer.from('otp-verify:rl:register-ip:::1'), 'x'])).toBe('eval otp-verify:rl:register-ip:*');
    expect(redisStatement('EVAL', [script, '0', 'secret-arg'])).toBe('eval');
    expect(redisStatement('evalsha', ['e0e1f9fabfc9d4800c877a703b823ac0578ff831', 0])).toBe('evalsha');
  });

  it('writes a keyed command with its key shape, and any other command by its name alone', () => {
    expect(redisStatement('set', ['otp-verify:claim:totp:3f2a9c1e-1b2c-4d5e-8f90-123456789abc:k1:1234', '1', 'PX', 300000, 'NX'])).toBe('set otp-verify:claim:totp:*');
    expect(redisStatement('exists', ['otp-verify:deny:0a1b2c3d'])).toBe('exists otp-verify:deny:*');
    expect(redisStatement('hget', ['otp-verify:decoy:{app}:counts', 'alice'])).toBe('hget otp-verify:decoy:*');
    for (const [name, args] of [['auth', ['hunter-two']], ['hello', ['3', 'AUTH', 'default', 'password']], ['script', ['load', script]], ['client', ['setname', 'otp']], ['ping', []], ['info', []]] as const)
      expect([name, redisStatement(name, [...args])]).toEqual([name, name]);
  });
});
