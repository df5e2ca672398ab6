import { describe, expect, it } from '@jest/globals';
import { makesDeliveryDue } from '../../../src/application/projections/deliveries.js';
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
