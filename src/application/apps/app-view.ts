import type { AppPolicy, ClientAppState } from '../../domain/client-app/index.js';

export type ActiveApp = Extract<ClientAppState, { status: 'ACTIVE' }>;

export type AppView = {
  readonly id: string;
  readonly name: string;
  readonly policy: AppPolicy;
  readonly created_at: string;
};

export const toAppView = (app: ActiveApp): AppView => ({
  id: app.app_id,
  name: app.name,
  policy: app.policy,
  created_at: app.created_at,
});

/** Who is calling /api/otp and /api/code: an app by its key, or an operator naming an app they own. */
export type Caller =
  | { readonly kind: 'app'; readonly app: ActiveApp }
  | { readonly kind: 'operator'; readonly account_id: string };

/** After a successful register/update the app is active by construction; anything else is a bug. */
export const expectActive = (state: ClientAppState): ActiveApp => {
  if (state.status !== 'ACTIVE') throw new Error(`App expected to be active, is ${state.status}`);
  return state;
};
