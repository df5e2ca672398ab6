import * as t from 'io-ts';
import type { AccountEvent } from '../../domain/account/events.js';
import { instant, strictObject, type CodecsMatch } from './codec-kit.js';

export const accountEventCodecs = {
  AccountRegistered: strictObject('AccountRegistered', {
    account_id: t.string,
    username: t.string,
    email: t.string,
    password_hash: t.string,
    at: instant,
  }),
  LoginSucceeded: strictObject('LoginSucceeded', { at: instant }, { client: t.string, password_hash: t.string }),
  LoginFailed: strictObject('LoginFailed', { at: instant }, { client: t.string }),
  LoggedOut: strictObject('LoggedOut', { jti: t.string, expires_at: instant, at: instant }),
  PasswordChanged: strictObject('PasswordChanged', { password_hash: t.string, client: t.string, at: instant }),
};

const _check: CodecsMatch<AccountEvent, typeof accountEventCodecs> = true;
