/**
 * `audit verify [--expect POSITION:CHAIN] [--file EXPORT]`: replays the log (or an export of it)
 * and checks its hash chain against every seal; prints a JSON report, exits 1 on any problem.
 * `audit export [--after POSITION]`: the log as JSON lines, each event as stored plus the chain
 * value after it, for an auditor to keep and verify elsewhere.
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { logEvents } from '../../application/audit/log-events.js';
import { verifyLog, type AuditedEvent } from '../../application/audit/verify-log.js';
import type { Logger } from '../../application/ports.js';
import { sha256LogChain } from '../../infrastructure/audit/log-chain.js';
import { createSealSigner } from '../../infrastructure/audit/seal-signer.js';
import { openStoredLog } from '../../infrastructure/composition/storage.js';
import type { Config } from '../../infrastructure/config/config.js';
import { safeEqual } from '../../infrastructure/crypto/keyed-hash.js';
import { createKeyring, type MasterKey } from '../../infrastructure/crypto/keyring.js';

const USAGE = 'usage: audit verify [--expect POSITION:CHAIN] [--file EXPORT.jsonl] | audit export [--after POSITION]\n';

type Flags = Readonly<Record<string, string>>;

/** `--name value` pairs; undefined when anything else is given. */
const parseFlags = (args: readonly string[], allowed: readonly string[]): Flags | undefined => {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i]!, args[i + 1]];
    if (!name.startsWith('--') || !allowed.includes(name.slice(2)) || value === undefined) return undefined;
    flags[name.slice(2)] = value;
  }
  return flags;
};

const position = (text: string | undefined): number | undefined => (text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined);

/** Lines written by `audit export`, checked for the fields a link covers. */
async function* exportedEvents(file: string): AsyncGenerator<AuditedEvent> {
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    const event = JSON.parse(text) as AuditedEvent;
    const shaped =
      typeof event === 'object' && event !== null && Number.isInteger(event.position) && Number.isInteger(event.revision) &&
      [event.id, event.stream, event.type, event.recorded_at, event.chain].every((field) => typeof field === 'string');
    if (!shaped) throw new Error(`${file}, line ${line}: not an event written by "audit export"`);
    yield event;
  }
}

// The reader went away (`audit export | head`): nothing more to write, and nothing went wrong.
const stopOnClosedPipe = () =>
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });

const write = async (text: string): Promise<void> => {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
};

export const auditCommand = async (
  args: readonly string[],
  config: Config,
  masterKeys: () => Promise<readonly MasterKey[]>,
  logger: Logger,
): Promise<number> => {
  const [action, ...rest] = args;
  const flags = parseFlags(rest, action === 'verify' ? ['expect', 'file'] : ['after']);
  const expect = flags?.expect?.match(/^(\d{1,15}):([0-9a-f]{64})$/);
  const after = flags?.after === undefined ? 0 : position(flags.after);
  if ((action !== 'verify' && action !== 'export') || !flags || (flags.expect !== undefined && !expect) || after === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  stopOnClosedPipe();
  const deps = { chain: sha256LogChain, signer: createSealSigner(createKeyring(await masterKeys()), safeEqual) };
  const verify = async (events: AsyncIterable<AuditedEvent>): Promise<number> => {
    const report = await verifyLog(events, deps, expect ? { expect: { position: Number(expect[1]), chain: expect[2]! } } : {});
    await write(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  };
  if (action === 'verify' && flags.file !== undefined) return verify(exportedEvents(flags.file));
  const { log, close } = await openStoredLog(
    { dataDir: config.dataDir, ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), ...(config.eventstoreConnectionString ? { eventStoreConnectionString: config.eventstoreConnectionString } : {}) },
    { clock: () => new Date(), logger },
  );
  try {
    if (action === 'verify') return await verify(logEvents(log));
    // The chain runs from the log's first event, so the lines before `after` are hashed unprinted.
    let chain = deps.chain.genesis;
    for await (const event of logEvents(log)) {
      chain = deps.chain.link(chain, event);
      if (event.position > after) await write(`${JSON.stringify({ ...event, chain })}\n`);
    }
    return 0;
  } finally {
    await close();
  }
};
