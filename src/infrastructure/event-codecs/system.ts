import type { DomainEvent } from '../../domain/shared/decider.js';
import type { SealedSecret } from '../../domain/shared/sealed.js';
import * as t from 'io-ts';
import type { SendRefused } from '../../domain/client-app/abuse.js';
import type { LogSealed } from '../../application/audit/log-seal.js';
import type { DataKeysRewrapped } from '../../application/keys/rewrap-data-keys.js';
import { instant, integer, sealedSecret, strictObject, type CodecsMatch } from './codec-kit.js';

/** Written by hash-root.ts on stream `system-hash-root`; no aggregate owns it. */
export type HashRootCreated = DomainEvent<'HashRootCreated', { sealed: SealedSecret }>;

export const systemEventCodecs = {
  HashRootCreated: strictObject('HashRootCreated', { sealed: sealedSecret }),
  SendRefused: strictObject('SendRefused', { app_id: t.string, reason: t.string, at: instant }, { to_hint: t.string, client: t.string }),
  LogSealed: strictObject('LogSealed', { through: integer, count: integer, chain: t.string, key_id: t.string, mac: t.string }),
  DataKeysRewrapped: strictObject('DataKeysRewrapped', {
    master_key_id: t.string,
    from: t.readonlyArray(strictObject('RewrappedFrom', { master_key_id: t.string, count: integer })),
    unreadable: integer,
    at: instant,
  }),
};

const _check: CodecsMatch<HashRootCreated | SendRefused | LogSealed | DataKeysRewrapped, typeof systemEventCodecs> = true;
