import type { Decider } from '../shared/decider.js';
import { decideAccount, type AccountCommand } from './decide.js';
import type { AccountEvent } from './events.js';
import { evolveAccount, initialAccountState, type AccountState } from './state.js';

export * from './decide.js';
export * from './events.js';
export * from './state.js';

export const accountDecider: Decider<AccountCommand, AccountState, AccountEvent> = {
  initialState: initialAccountState,
  evolve: evolveAccount,
  decide: decideAccount,
};
