import type { Decider } from '../shared/decider.js';
import { decideClientApp, type ClientAppCommand } from './decide.js';
import type { ClientAppEvent } from './events.js';
import { evolveClientApp, initialClientAppState, type ClientAppState } from './state.js';

export * from './decide.js';
export * from './events.js';
export * from './policy.js';
export * from './state.js';

export const clientAppDecider: Decider<ClientAppCommand, ClientAppState, ClientAppEvent> = {
  initialState: initialClientAppState,
  evolve: evolveClientApp,
  decide: decideClientApp,
};
export * from './abuse.js';
