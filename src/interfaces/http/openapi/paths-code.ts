import { appIdQuery, operation, type OperationSpec } from './operation.js';
import { uuid } from './schema-kit.js';

const send: OperationSpec = {
  tag: 'code',
  summary: 'Send a one-time code',
  auth: 'key-or-jwt',
  body: 'CodeSendRequest',
  description:
    "403 CHANNEL_NOT_ALLOWED when the app's policy does not enable the channel, or when no provider delivers it in this deployment (a production setup without one for that channel).",
  success: { status: 202, description: 'The challenge; the code is on its way', schema: 'ChallengeSent' },
  errors: [403, 404, 409, 429],
};

const sendBy = (channel: string) => ({
  post: operation({
    ...send,
    summary: `Send a one-time code by ${channel} (same as /api/code/send with channel ${channel})`,
    body: 'CodeSendByChannelRequest',
  }),
});

const challengeId = [{ name: 'challenge_id', in: 'path', required: true, schema: uuid } as const, appIdQuery];

export const codePaths = {
  '/api/code/send': { post: operation(send) },
  '/api/code/sms': sendBy('SMS'),
  '/api/code/email': sendBy('EMAIL'),
  '/api/code/whatsapp': sendBy('WHATSAPP'),
  '/api/code/verify': {
    post: operation({
      tag: 'code',
      summary: 'Check a sent code (by challenge_id) or a TOTP or recovery code (by username)',
      description:
        'A wrong code answers 401 with attempts_remaining; the lock-out after the last one answers 429 with attempts_remaining 0 and Retry-After. ' +
        "With both challenge_id and username, the challenge must be that user's: another user's answers 404, its attempts untouched. " +
        'The challenge of a factor\'s confirmation code (POST /api/otp/register) is checked by PUT /api/otp/enable only: here it answers 404, its attempts untouched.',
      auth: 'key-or-jwt',
      body: 'CodeVerifyRequest',
      success: { status: 200, description: 'Approved', schema: 'Approved' },
      errors: [401, 404, 409, 410, 429],
    }),
  },
  '/api/code/generate': {
    post: operation({
      tag: 'code',
      summary: 'Create a code the app delivers itself',
      description:
        "Only when the app's policy allows code export; otherwise 403. At most the policy's max_sends_per_recipient_per_hour codes an hour for one username, and max_sends_per_app_per_day a day per app, counted apart from sent codes (429 with Retry-After).",
      auth: 'key-or-jwt',
      body: 'UsernameRequest',
      success: { status: 201, description: 'The challenge and its code', schema: 'GeneratedCode' },
      errors: [403, 404, 409, 429],
    }),
  },
  '/api/code/{challenge_id}': {
    get: operation({
      tag: 'code',
      summary: 'A challenge',
      auth: 'key-or-jwt',
      parameters: challengeId,
      success: { status: 200, description: 'The challenge', schema: 'Challenge' },
      errors: [400, 404],
    }),
  },
  '/api/code/{challenge_id}/cancel': {
    post: operation({
      tag: 'code',
      summary: 'Cancel a pending challenge',
      description:
        'With an operator JWT, name the app by `app_id` in the query or in an optional JSON body. ' +
        'A challenge that is no longer pending (approved, canceled, expired or locked) answers 409 CHALLENGE_CLOSED. ' +
        "A factor's confirmation challenge (POST /api/otp/register) answers 404: registering the factor again replaces it.",
      auth: 'key-or-jwt',
      parameters: challengeId,
      body: 'AppScopeRequest',
      bodyRequired: false,
      success: { status: 200, description: 'Canceled', schema: 'Canceled' },
      errors: [400, 404, 409],
    }),
  },
};
