import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { accountStream } from '../../domain/account/index.js';
import { reject, type Rejection } from '../../domain/shared/rejection.js';
import { AccountAggregate } from '../aggregates.js';
import type { Deps } from '../deps.js';
import type { AccountView } from './register-account.js';

export const makeGetAccount =
  (deps: Pick<Deps, 'load'>) =>
  async (accountId: string): Promise<Either<Rejection, AccountView>> => {
    const state = await deps.load(AccountAggregate, accountStream(accountId));
    return state.status === 'NONE'
      ? left(reject('NOT_FOUND', 'Account not found'))
      : right({ id: state.account_id, email: state.email, username: state.username });
  };
