/** What a commit notification says about streams (events_append_batch, migration event-store-003). */
import { describe, expect, it } from '@jest/globals';
import { parseCommitPayload } from '../../../src/infrastructure/postgres/event-store-listener.js';

describe('parseCommitPayload', () => {
  it('reads the streams a batch moved and their revisions after the head', () => {
    const { tails, complete } = parseCommitPayload('1042\nenrollment-ab12 7\napp-1f 0');
    expect([...tails]).toEqual([
      ['enrollment-ab12', 7],
      ['app-1f', 0],
    ]);
    expect(complete).toBe(true);
  });

  it('splits a line at its last space, so a stream name may hold spaces', () => {
    expect([...parseCommitPayload('9\na b c 3').tails]).toEqual([['a b c', 3]]);
  });

  it.each([
    ['the head alone (event-store-002, or a listener between versions)', '1042'],
    ['an empty payload', ''],
    ['no payload', undefined],
    ['a stream too long to list', '1042\nx 1\n*'],
    ['a line without a revision', '1042\nx 1\nbroken'],
    ['a revision that is not an integer', '1042\nx 1.5'],
  ])('says nothing complete about streams with %s', (_what, payload) => {
    expect(parseCommitPayload(payload).complete).toBe(false);
  });

  it('still reports the streams it could read from an incomplete payload', () => {
    expect([...parseCommitPayload('1042\nx 1\n*').tails]).toEqual([['x', 1]]);
  });
});
