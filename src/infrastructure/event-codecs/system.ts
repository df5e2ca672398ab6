import type { DomainEvent } from '../../domain/shared/decider.js';
import type { SealedSecret } from '../../domain/shared/sealed.js';
import * as t from 'io-ts';
import type { SendRefused } from '../../domain/client-app/abuse.js';
import type { LogSealed } from '../../application/audit/log-seal.js';
import { instant, integer, sealedSecret, strictObject, type CodecsMatch } from './codec-kit.js';

/** Written by hash-root.ts on stream `system-hash-root`; no aggregate owns it. */
export type HashRootCreated = DomainEvent<'HashRootCreated', { sealed: SealedSecret }>;

export const systemEventCodecs = {
  HashRootCreated: strictObject('HashRootCreated', { sealed: sealedSecret }),
  SendRefused: strictObject('SendRefused', { app_id: t.string, reason: t.string, at: instant }, { to_hint: t.string, client: t.string }),
  LogSealed: strictObject('LogSealed', { through: integer, count: integer, chain: t.string, key_id: t.string, mac: t.string }),
};

const _check: CodecsMatch<HashRootCreated | SendRefused | LogSealed, typeof systemEventCodecs> = true;
