import { describe, expect, it } from '@jest/globals';
import { deliveriesProjection, makesDeliveryDue } from '../../../src/application/projections/deliveries.js';
import type { ProjectionChange } from '../../../src/application/read-models.js';

const now = new Date('2030-01-01T12:00:00.000Z');
const due = (at: string): ProjectionChange => ({ op: 'put', collection: 'pending_deliveries', id: 'c1', doc: { challenge_id: 'c1', pending: 'yes', due_at: at, since: 4 } });

describe('makesDeliveryDue (what wakes the delivery worker)', () => {
  it('is true for an entry due now, in the past, or within a second (clocks of other processes)', () => {
    expect(makesDeliveryDue([due('2030-01-01T12:00:00.000Z')], now)).toBe(true);
    expect(makesDeliveryDue([due('2030-01-01T11:00:00.000Z')], now)).toBe(true);
    expect(makesDeliveryDue([due('2030-01-01T12:00:00.900Z')], now)).toBe(true);
  });

  it('is false for a retry due later, a removed entry, other collections, and no changes', () => {
    expect(makesDeliveryDue([due('2030-01-01T12:00:05.000Z')], now)).toBe(false);
    expect(makesDeliveryDue([{ op: 'delete', collection: 'pending_deliveries', id: 'c1' }], now)).toBe(false);
    expect(makesDeliveryDue([{ op: 'put', collection: 'live_challenges', id: 'c1', doc: { due_at: '2030-01-01T12:00:00.000Z' } }], now)).toBe(false);
    expect(makesDeliveryDue([], now)).toBe(false);
  });

  it('is true when any change of a page makes one due', () => {
    expect(makesDeliveryDue([due('2030-01-01T13:00:00.000Z'), { op: 'delete', collection: 'pending_deliveries', id: 'c2' }, due('2030-01-01T12:00:00.000Z')], now)).toBe(true);
  });
});

describe('the deliveries projection', () => {
  const recorded = (type: string, data: object, position = 9) => ({ id: `e${position}`, stream: 'challenge-c1', revision: position, position, type, data, metadata: {} });
  const outcome = { provider: 'twilio', at: '2030-01-01T12:00:00.000Z' };

  it("removes the due entry on the current send's outcome", () => {
    expect(deliveriesProjection.apply(recorded('DeliverySucceeded', { ...outcome, send: 2 }) as never)).toEqual([{ op: 'delete', collection: 'pending_deliveries', id: 'c1' }]);
    expect(deliveriesProjection.apply(recorded('DeliveryFailed', { ...outcome, send: 2, reason: 'x', permanent: true }) as never)).toEqual([
      { op: 'delete', collection: 'pending_deliveries', id: 'c1' },
    ]);
  });

  it('moves a due entry on a retry or a lease, and never puts one back (the challenge may have closed meanwhile)', () => {
    const retry = '2030-01-01T12:00:02.000Z';
    const merge = { op: 'merge', collection: 'pending_deliveries', id: 'c1', patch: { due_at: retry, due_ms: Date.parse(retry), since: 9 } };
    expect(deliveriesProjection.apply(recorded('DeliveryFailed', { ...outcome, send: 1, reason: 'x', permanent: false, retry_at: retry }) as never)).toEqual([merge]);
    expect(deliveriesProjection.apply(recorded('DeliveryAttempted', { send: 1, attempt: 1, channel: 'SMS', provider: 'twilio', lease_until: retry, at: outcome.at }) as never)).toEqual([merge]);
  });

  it('puts the entry back on a failure reported after delivery that falls back, and removes it on one that does not', () => {
    const now = '2030-01-01T12:00:05.000Z';
    const late = { ...outcome, send: 1, attempt: 1, channel: 'WHATSAPP', reason: 'undelivered', permanent: true, late: true };
    expect(deliveriesProjection.apply(recorded('DeliveryFailed', { ...late, retry_at: now, next_channel: 'SMS' }) as never)).toEqual([
      { op: 'put', collection: 'pending_deliveries', id: 'c1', doc: { challenge_id: 'c1', pending: 'yes', due_at: now, due_ms: Date.parse(now), since: 9 } },
    ]);
    expect(deliveriesProjection.apply(recorded('DeliveryFailed', late) as never)).toEqual([{ op: 'delete', collection: 'pending_deliveries', id: 'c1' }]);
  });

  it('leaves the newer send due on an outcome of a send a resend replaced', () => {
    expect(deliveriesProjection.apply(recorded('DeliverySucceeded', { ...outcome, send: 1, superseded_by: 2 }) as never)).toEqual([]);
    expect(deliveriesProjection.apply(recorded('DeliveryFailed', { ...outcome, send: 1, superseded_by: 2, reason: 'x', permanent: true }) as never)).toEqual([]);
    expect(deliveriesProjection.apply(recorded('DeliveryFailed', { ...outcome, send: 1, superseded_by: 2, reason: 'x', permanent: false, retry_at: '2030-01-01T12:00:02.000Z' }) as never)).toEqual([]);
  });
});
