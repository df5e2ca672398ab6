/**
 * `audit verify [--expect POSITION:CHAIN] [--max-unsealed-s N] [--file EXPORT]`: replays the log
 * (or an export of it) and checks its hash chain against every seal; prints a JSON report.
 * `audit export [--after POSITION]`: the log as JSON lines, each event as stored plus the chain
 * value after it, after a header line, for an auditor to keep and verify elsewhere.
 * Exit codes: 0 verified, 1 problems found, 2 usage, 3 could not run (no log, bad file, no key).
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { logEvents } from '../../application/audit/log-events.js';
import { verifyLog, type AuditedEvent, type LogProblem, type VerifyLogOptions } from '../../application/audit/verify-log.js';
import type { Logger } from '../../application/ports.js';
import { sha256LogChain } from '../../infrastructure/audit/log-chain.js';
import { createSealSigner } from '../../infrastructure/audit/seal-signer.js';
import { openStoredLog } from '../../infrastructure/composition/storage.js';
import type { Config } from '../../infrastructure/config/config.js';
import { safeEqual } from '../../infrastructure/crypto/keyed-hash.js';
import { createKeyring, type MasterKey } from '../../infrastructure/crypto/keyring.js';

const USAGE = 'usage: audit verify [--expect POSITION:CHAIN] [--max-unsealed-s SECONDS] [--file EXPORT.jsonl] | audit export [--after POSITION]\n';
const EXPORT_FORMAT = 'otp-verify-log-export/v1';
/**
 * How long events may go unsealed, by the log's own times, before `verify` calls it a problem,
 * unless told otherwise: an hour, or three sealing intervals if longer; never with sealing off.
 */
const defaultMaxUnsealedSeconds = (sealIntervalSeconds: number): number => (sealIntervalSeconds === 0 ? 0 : Math.max(3600, 3 * sealIntervalSeconds));

type Flags = Readonly<Record<string, string>>;

/** `--name value` pairs; undefined when anything else is given. */
const parseFlags = (args: readonly string[], allowed: readonly string[]): Flags | undefined => {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i]!, args[i + 1]];
    // A flag given twice is refused: the second silently replacing the first (an anchor) would check less than asked.
    if (!name.startsWith('--') || !allowed.includes(name.slice(2)) || value === undefined || name.slice(2) in flags) return undefined;
    flags[name.slice(2)] = value;
  }
  return flags;
};

/** Rows below position 1 read and listed at most: past that, how many more there are. */
const BELOW_FIRST_READ = 1000;

const integer = (text: string | undefined): number | undefined => (text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined);

/** The first line of every export: what follows, and how its store numbers positions. */
type ExportHeader = { readonly format: typeof EXPORT_FORMAT; readonly after: number; readonly positions: 'dense' | 'sparse' };

const parseHeader = (text: string | undefined, where: string): ExportHeader => {
  const parsed = text === undefined ? undefined : (JSON.parse(text) as Partial<ExportHeader>);
  if (parsed?.format !== EXPORT_FORMAT || !Number.isInteger(parsed.after) || (parsed.positions !== 'dense' && parsed.positions !== 'sparse'))
    throw new Error(`${where} is not an "audit export" header`);
  return parsed as ExportHeader;
};

/**
 * The events of an export file, whose first line is a header from position 0. Later exports
 * (`--after`) appended to it are welcome where their header continues from the last event.
 */
const readExport = async (file: string): Promise<{ readonly events: AsyncGenerator<AuditedEvent>; readonly densePositions: boolean }> => {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = parseHeader((await lines.next()).value as string | undefined, `${file}, line 1`);
  if (first.after !== 0) throw new Error(`${file} starts after position ${first.after}: verify it appended to the export it continues`);
  async function* events(): AsyncGenerator<AuditedEvent> {
    let line = 1;
    let last = 0;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      line += 1;
      const text = next.value as string;
      if (text.trim() === '') continue;
      const event = JSON.parse(text) as AuditedEvent & { readonly format?: unknown };
      if (event.format !== undefined) {
        const continued = parseHeader(text, `${file}, line ${line}`);
        if (continued.after !== last || continued.positions !== first.positions)
          throw new Error(`${file}, line ${line}: an export from position ${continued.after} on (${continued.positions}) where the file so far ends at ${last} (${first.positions})`);
        continue;
      }
      const shaped =
        Number.isInteger(event.position) && Number.isInteger(event.revision) && [event.id, event.stream, event.type, event.recorded_at, event.chain].every((field) => typeof field === 'string');
      if (!shaped) throw new Error(`${file}, line ${line}: not an event written by "audit export"`);
      last = event.position;
      yield event;
    }
  }
  return { events: events(), densePositions: first.positions === 'dense' };
};

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
  const flags = parseFlags(rest, action === 'verify' ? ['expect', 'file', 'max-unsealed-s'] : ['after']);
  const expect = flags?.expect?.match(/^(\d{1,15}):([0-9a-f]{64})$/);
  const after = flags?.after === undefined ? 0 : integer(flags.after);
  const maxUnsealedSeconds = flags?.['max-unsealed-s'] === undefined ? defaultMaxUnsealedSeconds(config.logSealIntervalSeconds) : integer(flags['max-unsealed-s']);
  if ((action !== 'verify' && action !== 'export') || !flags || (flags.expect !== undefined && !expect) || after === undefined || maxUnsealedSeconds === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  stopOnClosedPipe();
  let close = async () => undefined as void;
  try {
    const verify = async (events: AsyncIterable<AuditedEvent>, densePositions: boolean, more: readonly LogProblem[] = []): Promise<number> => {
      const deps = { chain: sha256LogChain, signer: createSealSigner(createKeyring(await masterKeys()), safeEqual) };
      const options: VerifyLogOptions = { maxUnsealedSeconds, densePositions, ...(expect ? { expect: { position: Number(expect[1]), chain: expect[2]! } } : {}) };
      // A row (or an export's line) that is not JSON was changed by hand: a finding (1), not a
      // failure to run (3), reported with what was read before it.
      let last = 0;
      let unreadable: string | undefined;
      async function* readable(): AsyncGenerator<AuditedEvent> {
        try {
          for await (const event of events) {
            last = event.position;
            yield event;
          }
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          unreadable = error.message;
        }
      }
      const verified = await verifyLog(readable(), deps, options);
      const found = [
        ...more,
        ...(unreadable === undefined ? [] : [{ position: last, problem: `a row after position ${last} is not valid JSON (${unreadable}): it was changed by hand, and nothing from there on was read` }]),
      ];
      const report = found.length === 0 ? verified : { ...verified, ok: false, problems: [...verified.problems, ...found] };
      await write(`${JSON.stringify(report, null, 2)}\n`);
      return report.ok ? 0 : 1;
    };
    if (action === 'verify' && flags.file !== undefined) {
      const exported = await readExport(flags.file);
      return await verify(exported.events, exported.densePositions);
    }
    const stored = await openStoredLog(
      { dataDir: config.dataDir, ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), ...(config.eventstoreConnectionString ? { eventStoreConnectionString: config.eventstoreConnectionString } : {}) },
      { clock: () => new Date(), logger },
    );
    close = stored.close;
    // The rows below position 1 first, where positions are the database's own numbers (SQLite,
    // PostgreSQL): a row slipped in at 0 or below, however far below, is read and reported rather
    // than skipped, since the service reads it by its stream. Read apart, not from a position
    // below them: a JS number holds no position below -2^53 exactly, and reads from one skipped
    // such rows or paged over them (reviews of stops 33 and 35). KurrentDB's cannot be written so.
    const none = { count: 0, lowest: null, events: [] };
    const unread: LogProblem[] = [];
    const below = stored.readBelowFirst
      ? await stored.readBelowFirst(BELOW_FIRST_READ).catch((error: unknown) => {
          if (!(error instanceof SyntaxError)) throw error;
          unread.push({ position: 0, problem: `a row below position 1 is not valid JSON (${error.message}): written behind the service's back` });
          return none;
        })
      : none;
    if (below.count > below.events.length)
      unread.push({
        position: below.events.at(-1)?.position ?? 0,
        problem: `${below.count - below.events.length} more rows below position 1 than listed (${below.count} in all, the lowest at ${below.lowest}): written behind the service's back, not read`,
      });
    async function* everyRow(): AsyncGenerator<AuditedEvent> {
      yield* below.events;
      yield* logEvents(stored.log, 0);
    }
    if (action === 'verify') return await verify(everyRow(), stored.densePositions, unread);
    const header: ExportHeader = { format: EXPORT_FORMAT, after, positions: stored.densePositions ? 'dense' : 'sparse' };
    await write(`${JSON.stringify(header)}\n`);
    // The chain runs from the log's first event, so the lines before `after` are hashed unprinted.
    let chain = sha256LogChain.genesis;
    for await (const event of everyRow()) {
      chain = sha256LogChain.link(chain, event);
      // A whole export prints every row read, one slipped in below position 1 too (for the file's
      // verify to report).
      if (after === 0 || event.position > after) await write(`${JSON.stringify({ ...event, chain })}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`otp-verify audit: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  } finally {
    await close();
  }
};
