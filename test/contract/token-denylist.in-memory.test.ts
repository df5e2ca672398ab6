import { createInMemoryTokenDenylist } from '../../src/infrastructure/abuse/in-memory-denylist.js';
import { tokenDenylistContract } from './token-denylist.contract.js';

tokenDenylistContract('in memory', async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = () => new Date(now);
  return { subject: createInMemoryTokenDenylist(clock), now: clock, advance: async (ms) => void (now += ms), cleanup: async () => undefined };
});
