import { describe, expect, it } from '@jest/globals';
import { clientAppDecider, defaultPolicy, type ClientAppEvent } from '../../src/domain/client-app/index.js';
import { at, T0 } from './fixtures.js';
import { given } from './given-when-then.js';

const app = clientAppDecider;
const OWNER = 'owner-1';

const registered: ClientAppEvent[] = [
  { type: 'AppRegistered', data: { app_id: 'app-1', owner_id: OWNER, name: 'Shop', policy: defaultPolicy, at: T0 } },
  { type: 'ApiKeyIssued', data: { key_id: 'key-1', key_hash: 'hash-1', at: T0 } },
];
const closed: ClientAppEvent[] = [
  ...registered,
  { type: 'ApiKeyRevoked', data: { key_id: 'key-1', key_hash: 'hash-1', at: at(60) } },
  { type: 'AppClosed', data: { at: at(60) } },
];

const register = (policy = {}) =>
  ({ type: 'RegisterApp', app_id: 'app-1', owner_id: OWNER, name: 'Shop', policy, key_id: 'key-1', key_hash: 'hash-1', at: T0 }) as const;
const update = (patch: { name?: string; policy?: object }, actor_id = OWNER) => ({ type: 'UpdateApp', actor_id, ...patch, at: at(10) }) as const;
const rotate = (actor_id = OWNER) => ({ type: 'RotateApiKey', actor_id, key_id: 'key-2', key_hash: 'hash-2', at: at(20) }) as const;
const close = (actor_id = OWNER) => ({ type: 'CloseApp', actor_id, at: at(30) }) as const;

describe('ClientApp: RegisterApp', () => {
  it('registers with the default policy and issues the first key', () =>
    given(app).when(register()).then(registered));

  it('merges a policy patch over the defaults, nested totp included', () =>
    given(app)
      .when(register({ code_length: 8, allowed_countries: ['34'], totp: { digits: 8 } }))
      .then([
        {
          type: 'AppRegistered',
          data: {
            app_id: 'app-1',
            owner_id: OWNER,
            name: 'Shop',
            policy: { ...defaultPolicy, code_length: 8, allowed_countries: ['34'], totp: { ...defaultPolicy.totp, digits: 8 } },
            at: T0,
          },
        },
        { type: 'ApiKeyIssued', data: { key_id: 'key-1', key_hash: 'hash-1', at: T0 } },
      ]));

  it('rejects an invalid policy naming every bad field, and writes nothing', () =>
    given(app)
      .when(register({ code_length: 3, max_attempts: 0, totp: { window: 3 } }))
      .thenRejects('INVALID_POLICY', {
        details: [
          { field: 'policy.code_length', message: 'must be an integer from 4 to 10' },
          { field: 'policy.max_attempts', message: 'must be an integer from 1 to 20' },
          { field: 'policy.totp.window', message: 'must be an integer from 0 to 2' },
        ],
      }));

  it('refuses to register twice', () => given(app, registered).when(register()).thenRejects('ALREADY_EXISTS'));
  it('refuses to re-register a closed app', () => given(app, closed).when(register()).thenRejects('ALREADY_EXISTS'));
});

describe('ClientApp: UpdateApp', () => {
  it('renames', () =>
    given(app, registered).when(update({ name: 'Store' })).then([{ type: 'AppRenamed', data: { name: 'Store', at: at(10) } }]));

  it('changes the policy, keeping the fields the patch leaves out', () =>
    given(app, registered)
      .when(update({ policy: { max_attempts: 3, totp: { algorithm: 'SHA256' } } }))
      .then([
        {
          type: 'AppPolicyChanged',
          data: { policy: { ...defaultPolicy, max_attempts: 3, totp: { ...defaultPolicy.totp, algorithm: 'SHA256' } }, at: at(10) },
        },
      ]));

  it('renames and changes the policy in one command', () =>
    given(app, registered)
      .when(update({ name: 'Store', policy: { allow_code_export: true } }))
      .then([
        { type: 'AppRenamed', data: { name: 'Store', at: at(10) } },
        { type: 'AppPolicyChanged', data: { policy: { ...defaultPolicy, allow_code_export: true }, at: at(10) } },
      ]));

  it('produces no events when nothing changes', () =>
    given(app, registered)
      .when(update({ name: 'Shop', policy: { code_length: 6, channels: ['SMS', 'EMAIL', 'WHATSAPP'], totp: { window: 1 } } }))
      .then([]));

  it('produces no events for an empty update', () => given(app, registered).when(update({})).then([]));

  it('rejects an invalid policy and does not rename either', () =>
    given(app, registered)
      .when(update({ name: 'Store', policy: { channels: ['FAX'] } }))
      .thenRejects('INVALID_POLICY', { details: [{ field: 'policy.channels', message: 'must list SMS, EMAIL or WHATSAPP' }] }));

  it('validates the patch against the current policy, not the defaults', () => {
    const tightened: ClientAppEvent = { type: 'AppPolicyChanged', data: { policy: { ...defaultPolicy, code_length: 10 }, at: at(5) } };
    given(app, [...registered, tightened]).when(update({ policy: { max_attempts: 2 } })).then([
      { type: 'AppPolicyChanged', data: { policy: { ...defaultPolicy, code_length: 10, max_attempts: 2 }, at: at(10) } },
    ]);
  });

  it('answers NOT_FOUND to another operator', () =>
    given(app, registered).when(update({ name: 'Mine' }, 'intruder')).thenRejects('NOT_FOUND'));
  it('answers NOT_FOUND for a closed app', () => given(app, closed).when(update({ name: 'Again' })).thenRejects('NOT_FOUND'));
  it('answers NOT_FOUND for an unknown app', () => given(app).when(update({ name: 'Ghost' })).thenRejects('NOT_FOUND'));
});

describe('ClientApp: RotateApiKey', () => {
  it('revokes the current key and issues the new one', () =>
    given(app, registered)
      .when(rotate())
      .then([
        { type: 'ApiKeyRevoked', data: { key_id: 'key-1', key_hash: 'hash-1', at: at(20) } },
        { type: 'ApiKeyIssued', data: { key_id: 'key-2', key_hash: 'hash-2', at: at(20) } },
      ]));

  it('leaves only the new key current', () =>
    given(app, registered).when(rotate()).thenState({ status: 'ACTIVE', api_key: { key_id: 'key-2', key_hash: 'hash-2' } }));

  it('issues without a revocation when no key is current', () =>
    given(app, [registered[0]!]).when(rotate()).then([{ type: 'ApiKeyIssued', data: { key_id: 'key-2', key_hash: 'hash-2', at: at(20) } }]));

  it('answers NOT_FOUND to another operator', () => given(app, registered).when(rotate('intruder')).thenRejects('NOT_FOUND'));
  it('answers NOT_FOUND for a closed app', () => given(app, closed).when(rotate()).thenRejects('NOT_FOUND'));
});

describe('ClientApp: RotateApiKey with an overlap (keep_previous_seconds)', () => {
  const rotateKeeping = (seconds: number, key = 'key-2', when = 20) =>
    ({ type: 'RotateApiKey', actor_id: OWNER, key_id: key, key_hash: `hash-${key.slice(4)}`, keep_previous_seconds: seconds, at: at(when) }) as const;
  const overlapping: ClientAppEvent[] = [
    ...registered,
    { type: 'ApiKeyRevoked', data: { key_id: 'key-1', key_hash: 'hash-1', at: at(20), until: at(620) } },
    { type: 'ApiKeyIssued', data: { key_id: 'key-2', key_hash: 'hash-2', at: at(20) } },
  ];

  it('revokes the current key as of the end of the overlap, and issues the new one', () =>
    given(app, registered).when(rotateKeeping(600)).then(overlapping.slice(2)));

  it('keeps the replaced key as retiring until then, the new one current', () =>
    given(app, registered)
      .when(rotateKeeping(600))
      .thenState({ api_key: { key_id: 'key-2', key_hash: 'hash-2' }, retiring_key: { key_id: 'key-1', key_hash: 'hash-1', until: at(620) } }));

  it('bounds the overlap at a day, and takes 0 as none', () => {
    given(app, registered).when(rotateKeeping(10 * 86_400)).thenState({ retiring_key: { key_id: 'key-1', key_hash: 'hash-1', until: at(20 + 86_400) } });
    given(app, registered).when(rotateKeeping(0)).then([
      { type: 'ApiKeyRevoked', data: { key_id: 'key-1', key_hash: 'hash-1', at: at(20) } },
      { type: 'ApiKeyIssued', data: { key_id: 'key-2', key_hash: 'hash-2', at: at(20) } },
    ]);
  });

  it('ends a retiring key at the next rotation: only two keys ever work at once', () =>
    given(app, overlapping)
      .when(rotateKeeping(600, 'key-3', 100))
      .then([
        { type: 'ApiKeyRevoked', data: { key_id: 'key-1', key_hash: 'hash-1', at: at(100) } },
        { type: 'ApiKeyRevoked', data: { key_id: 'key-2', key_hash: 'hash-2', at: at(100), until: at(700) } },
        { type: 'ApiKeyIssued', data: { key_id: 'key-3', key_hash: 'hash-3', at: at(100) } },
      ]));

  it('ends a retiring key with the app', () =>
    given(app, overlapping)
      .when(close())
      .then([
        { type: 'ApiKeyRevoked', data: { key_id: 'key-1', key_hash: 'hash-1', at: at(30) } },
        { type: 'ApiKeyRevoked', data: { key_id: 'key-2', key_hash: 'hash-2', at: at(30) } },
        { type: 'AppClosed', data: { at: at(30) } },
      ]));

  it('has no retiring key once it is revoked', () =>
    given(app, overlapping)
      .when(rotateKeeping(0, 'key-3', 100))
      .thenState((s) => {
        expect(s).toMatchObject({ status: 'ACTIVE', api_key: { key_id: 'key-3' } });
        expect(s).not.toHaveProperty('retiring_key');
      }));
});

describe('ClientApp: CloseApp', () => {
  it('revokes the key and closes', () =>
    given(app, registered)
      .when(close())
      .then([
        { type: 'ApiKeyRevoked', data: { key_id: 'key-1', key_hash: 'hash-1', at: at(30) } },
        { type: 'AppClosed', data: { at: at(30) } },
      ]));

  it('is closed afterwards, keeping only identity', () =>
    given(app, registered).when(close()).thenState((s) => {
      expect(s).toEqual({ status: 'CLOSED', app_id: 'app-1', owner_id: OWNER });
    }));

  it('answers NOT_FOUND to another operator', () => given(app, registered).when(close('intruder')).thenRejects('NOT_FOUND'));
  it('answers NOT_FOUND when closed twice', () => given(app, closed).when(close()).thenRejects('NOT_FOUND'));
});

describe('ClientApp: evolve', () => {
  it('tracks name, policy, creation time and the current key', () =>
    given(app, registered)
      .when(update({ name: 'Store', policy: { issuer: 'Store Inc' } }))
      .thenState({
        status: 'ACTIVE',
        app_id: 'app-1',
        owner_id: OWNER,
        name: 'Store',
        created_at: T0,
        policy: { ...defaultPolicy, issuer: 'Store Inc' },
        api_key: { key_id: 'key-1', key_hash: 'hash-1' },
      }));

  it('ignores the revocation of a key that is not current', () => {
    const stale: ClientAppEvent = { type: 'ApiKeyRevoked', data: { key_id: 'key-0', key_hash: 'hash-0', at: at(1) } };
    given(app, [...registered, stale]).when(update({})).thenState({ api_key: { key_id: 'key-1', key_hash: 'hash-1' } });
  });
});
