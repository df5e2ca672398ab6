import { describe, expect, it } from '@jest/globals';
import { historyEntry } from '../../../src/application/audit/history-entry.js';
import type { RecordedEvent } from '../../../src/application/ports.js';

const recorded = (type: string, data: Record<string, unknown>, metadata = {}): RecordedEvent => ({
  id: 'e-1',
  stream: 'challenge-c1',
  revision: 0,
  position: 7,
  type,
  data,
  metadata,
  recorded_at: '2026-11-30T06:00:00.100Z',
});

describe('a history entry', () => {
  it('shows only the fields its event type allows', () => {
    const entry = historyEntry(
      recorded('ChallengeIssued', { channel: 'SMS', to_hint: '+34 *** 12', code_hash: 'h', code_sealed: { ciphertext: 'x' }, destination: { ciphertext: 'y' }, recipient_key: 'k', username: 'alice', at: '2026-11-30T06:00:00.000Z' }, { request_id: 'r-1', trace_id: 't' }),
      { challenge_id: 'c1' },
    );
    expect(entry).toEqual({ position: 7, at: '2026-11-30T06:00:00.000Z', event: 'ChallengeIssued', challenge_id: 'c1', request_id: 'r-1', details: { channel: 'SMS', to_hint: '+34 *** 12' } });
  });

  it('shows nothing of a type it does not know, and counts recovery codes without their hashes', () => {
    expect(historyEntry(recorded('SomethingNew', { secret_thing: 's' }), { challenge_id: 'c1' }).details).toEqual({});
    expect(historyEntry(recorded('RecoveryCodesIssued', { code_hashes: ['a', 'b'] }), { otp_method: 'RECOVERY', enrollment_id: 'e' }).details).toEqual({ count: 2 });
  });

  it('never shows a password hash: a sign-in that rehashed shows its client only', () => {
    const hash = '$argon2id$v=19$m=19456,p=1,t=3$c2FsdHNhbHQ$aGFzaGhhc2g';
    const entry = historyEntry(recorded('LoginSucceeded', { at: '2026-11-30T06:00:00.000Z', client: 'c0ffee', password_hash: hash }));
    expect(entry.details).toEqual({ client: 'c0ffee' });
    expect(JSON.stringify(entry)).not.toContain('argon2');
    for (const type of ['AccountRegistered', 'PasswordChanged']) expect(JSON.stringify(historyEntry(recorded(type, { password_hash: hash, client: 'c', username: 'ada' })))).not.toContain('argon2');
  });

  it("falls back to the log's time when the event has none", () => {
    expect(historyEntry(recorded('ChallengeApproved', {}), { challenge_id: 'c1' }).at).toBe('2026-11-30T06:00:00.100Z');
  });
});
