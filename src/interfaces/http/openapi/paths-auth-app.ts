import { uuid } from './schema-kit.js';
import { historyPageParameters, operation, type OperationSpec } from './operation.js';

const register: OperationSpec = {
  tag: 'auth',
  summary: 'Register an operator account',
  description:
    "Open to anyone by default. With OPERATOR_SIGNUP=invite, only an operator registers another: send an operator's bearer token (401 without one). " +
    'At most REGISTRATIONS_PER_IP_PER_HOUR (20) per client address (429 with Retry-After). ' +
    'A username or email already registered is 409 ALREADY_EXISTS; while another registration of the same email is under way, 409 CONFLICT with Retry-After.',
  auth: 'none',
  body: 'RegisterRequest',
  success: { status: 201, description: 'The account', schema: 'Account' },
  errors: [401, 409, 429],
};

const appId = [{ name: 'id', in: 'path', required: true, schema: uuid }] as const;

export const authAndAppPaths = {
  '/api/auth/register': { post: operation(register) },
  '/api/auth': { post: operation({ ...register, summary: 'Register an operator account (same as /api/auth/register)' }) },
  '/api/auth/login': {
    post: operation({
      tag: 'auth',
      summary: 'Log in with a username (or email) and password',
      auth: 'none',
      body: 'LoginRequest',
      success: { status: 200, description: 'A bearer token', schema: 'Token' },
      errors: [401, 409, 429],
    }),
  },
  '/api/auth/logout': {
    post: operation({ tag: 'auth', summary: 'Revoke the current token', auth: 'jwt', success: { status: 204, description: 'The token stops working' }, errors: [409] }),
  },
  '/api/auth/password': {
    put: operation({
      tag: 'auth',
      summary: "Change the current operator's password",
      description:
        'The current password is required: a wrong one is 403 and counts as a failed sign-in (throttled as sign-ins are: 429 with Retry-After). ' +
        "Every token issued before the change stops working, this one included (on other processes within APP_CACHE_MS); the answer carries a new token for the caller's session.",
      auth: 'jwt',
      body: 'PasswordChangeRequest',
      success: { status: 200, description: 'A new bearer token', schema: 'Token' },
      errors: [403, 409, 429],
    }),
  },
  '/api/auth/me': {
    get: operation({ tag: 'auth', summary: 'The current operator', auth: 'jwt', success: { status: 200, description: 'The account', schema: 'Account' }, errors: [] }),
  },
  '/api/auth/history': {
    get: operation({
      tag: 'auth',
      summary: "The current operator's account history, from the event log",
      description: 'Registration, every sign-in (failed ones too), password change and sign-out, with the request that caused each; oldest first, a page at a time.',
      auth: 'jwt',
      parameters: historyPageParameters,
      success: { status: 200, description: 'One page of the history', schema: 'AccountHistory' },
      errors: [400],
    }),
  },
  '/api/app': {
    post: operation({
      tag: 'app',
      summary: 'Create an app (tenant)',
      auth: 'jwt',
      body: 'AppCreateRequest',
      description: 'At most APPS_PER_OPERATOR (100) apps per operator at once: past that, 403 until one is deleted.',
      success: { status: 201, description: 'The app and its API key, shown once', schema: 'AppWithKey' },
      errors: [403, 409],
    }),
    get: operation({
      tag: 'app',
      summary: "The operator's apps",
      auth: 'jwt',
      success: { status: 200, description: 'Apps, never their keys', schema: { type: 'array', items: { $ref: '#/components/schemas/App' } } },
      errors: [],
    }),
  },
  '/api/app/{id}': {
    get: operation({ tag: 'app', summary: 'One app', auth: 'jwt', parameters: appId, success: { status: 200, description: 'The app', schema: 'App' }, errors: [400, 404] }),
    put: operation({
      tag: 'app',
      summary: 'Rename an app or change its policy',
      auth: 'jwt',
      parameters: appId,
      body: 'AppUpdateRequest',
      success: { status: 200, description: 'The app', schema: 'App' },
      errors: [404, 409],
    }),
    delete: operation({
      tag: 'app',
      summary: 'Delete an app',
      auth: 'jwt',
      parameters: appId,
      success: { status: 204, description: 'Deleted; its keys stop working' },
      errors: [400, 404, 409],
    }),
  },
  '/api/app/{id}/history': {
    get: operation({
      tag: 'app',
      summary: "The app's own history, from the event log",
      description:
        'Registration, renames, policy changes (with the whole policy), API keys issued and revoked (their ids, never the keys), closing, ' +
        'and sends refused before any provider was called (SendRefused: the reason, a hint of the destination, and for caps a hash of the caller\'s address); ' +
        'oldest first, a page at a time. A closed app\'s history stays readable by its owner.',
      auth: 'jwt',
      parameters: [...appId, ...historyPageParameters],
      success: { status: 200, description: 'One page of the history', schema: 'AppHistory' },
      errors: [400, 404],
    }),
  },
  '/api/app/{id}/api-key': {
    put: operation({
      tag: 'app',
      summary: 'Rotate the API key',
      description:
        'Issues a new key. The old one stops working at once, or, with keep_previous_seconds, at the end of that overlap (up to a day), ' +
        "so the app's processes can move to the new key one by one; a key kept working ends early with the next rotation or the app's deletion.",
      auth: 'jwt',
      parameters: appId,
      body: 'ApiKeyRotateRequest',
      bodyRequired: false,
      success: { status: 201, description: 'The new key, shown once, and until when the old one works if it was kept', schema: 'ApiKey' },
      errors: [400, 404, 409],
    }),
  },
};
