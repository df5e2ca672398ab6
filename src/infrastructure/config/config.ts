/** Service configuration from environment variables, decoded in one pass so every problem is reported. */
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  commaList,
  envVar,
  httpOrigin,
  integer,
  listenHost,
  isBlank,
  lengthOf,
  matching,
  oneOf,
  optional,
  proxyHops,
  publicBaseUrl,
  text,
  urlWithScheme,
  withDefault,
  type Check,
} from './env-codecs.js';
import { FAILURES_KEPT } from '../../domain/enrollment/index.js';
import { MAX_MEMORY_COST_KIB, MAX_TIME_COST, MIN_MEMORY_COST_KIB, MIN_TIME_COST } from '../crypto/argon2-parameters.js';
import {
  base64Key,
  ed25519PrivateKey,
  jwtSecret,
  keyId,
  previousKeyEntries,
  previousKeyId,
  previousKeys,
  webhookSigningSecret,
  type NamedKey,
} from './secret-codecs.js';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
export const processRoles = ['api', 'worker', 'all'] as const;
export type ProcessRole = (typeof processRoles)[number];
export const operatorSignups = ['open', 'invite'] as const;
/** Who may register an operator account: anyone, or only an operator (with their token). */
export type OperatorSignup = (typeof operatorSignups)[number];
export const deliveryReceiptModes = ['record', 'ignore'] as const;
/** Whether providers' receipts (delivered, read) are recorded, or answered and dropped (while older builds still serve). */
export type DeliveryReceipts = (typeof deliveryReceiptModes)[number];

export type Config = {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** 32 bytes; undefined only in the embedded default, which generates one (dev-secrets.ts). */
  readonly masterKey?: Buffer;
  readonly masterKeyId: string;
  /** Older master keys still needed to open secrets sealed before a rotation. */
  readonly previousMasterKeys: readonly NamedKey[];
  /** HS256 secret (UTF-8 bytes of JWT_SECRET). */
  readonly jwtSecret?: Buffer;
  /** EdDSA key, normalised PKCS#8 PEM, with its public half derived. */
  readonly jwtPrivateKey?: string;
  readonly jwtPublicKey?: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly accessTokenExpireMinutes: number;
  /** Service-wide abuse caps per client IP (per-app caps live in each app's policy). */
  readonly loginAttemptsPerIpPerMinute: number;
  readonly registrationsPerIpPerHour: number;
  readonly appsPerOperator: number;
  readonly sendsPerIpPerHour: number;
  readonly verifyFailuresPerDay: number;
  /** Unknown usernames per app the decoy keeps counts for, the least recently failed forgotten first. */
  readonly verifyUnknownUsersPerApp: number;
  /** Variables set that this version no longer reads, each with what to do instead (logged at start). */
  readonly retired: readonly string[];
  /** Processes sharing the HTTP port on this host (node:cluster); shared storage only. */
  readonly webConcurrency: number;
  readonly databaseUrl?: string;
  /** Connections each process's PostgreSQL pool may open. */
  readonly databasePoolSize: number;
  /** How long the schema migrations at start may wait for locks before the process gives up and exits 1 (0: as long as it takes). */
  readonly migrationWaitSeconds: number;
  readonly eventstoreConnectionString?: string;
  readonly redisUrl?: string;
  /** Prefix of this deployment's Redis keys, so deployments can share a Redis database. */
  readonly redisKeyPrefix: string;
  /** How long a Redis call may take before the service falls back and counts a failure towards opening the circuit, ms. */
  readonly redisTimeoutMs: number;
  /**
   * The development outbox (codes in clear in a file). Embedded: DATA_DIR/outbox.jsonl unless
   * OUTBOX_FILE says otherwise. With DATABASE_URL or EVENTSTORE_CONNECTION_STRING (production
   * stores) only when OUTBOX_FILE is set: otherwise a channel without a provider is refused.
   */
  readonly outboxFile: string | undefined;
  readonly resendApiKey?: string;
  /**
   * The signing secret of the service's endpoint in Resend's webhooks (RESEND_WEBHOOK_SECRET):
   * with it, emails are tagged with their challenge and send, and Resend's bounces reach the service.
   */
  readonly resendWebhookSecret?: string;
  /** Requests a second the Resend account allows (RESEND_RATE_PER_SECOND): the worker paces its emails to it. */
  readonly resendRatePerSecond: number;
  readonly emailAddress?: string;
  readonly twilioAccountSid?: string;
  readonly twilioAuthToken?: string;
  /**
   * The auth token before a rotation (TWILIO_PREVIOUS_AUTH_TOKEN), still accepted on Twilio's
   * signed calls: until the new token is promoted, Twilio signs with the old one.
   */
  readonly twilioPreviousAuthToken?: string;
  readonly twilioPhoneNumber?: string;
  readonly twilioWhatsappNumber?: string;
  /** Twilio Content template for WhatsApp codes (the code is variable 1). */
  readonly twilioWhatsappContentSid?: string;
  readonly smtpUrl?: string;
  /**
   * The service's address as providers reach it (PUBLIC_URL): Twilio's status callbacks are
   * registered under it, so failures Twilio reports after accepting a message are seen.
   */
  readonly publicUrl?: string;
  /** How long a request to a delivery provider may take, connecting included, before it counts as a transient failure, ms. */
  readonly deliveryTimeoutMs: number;
  /**
   * DELIVERY_RECEIPTS: `record` (default) the receipts Twilio's callbacks and Resend's webhooks
   * bring, or `ignore` them, while processes of a build before stop 27 (which cannot read them)
   * still share the log.
   */
  readonly deliveryReceipts: DeliveryReceipts;
  readonly logLevel: LogLevel;
  readonly corsOrigins: readonly string[];
  /**
   * Proxies in front of the service that append to X-Forwarded-For (0: the header is ignored).
   * The client IP for per-IP limits is the address the outermost of them saw.
   */
  readonly trustedProxies: number;
  readonly processRole: ProcessRole;
  readonly operatorSignup: OperatorSignup;
  /** How long an idle keep-alive connection stays open, s: above the load balancer's idle timeout. */
  readonly keepAliveTimeoutSeconds: number;
  /** After SIGTERM: how long to keep serving with readiness failing, so load balancers stop sending, ms. */
  readonly shutdownDelayMs: number;
  /** Then how long requests in flight may take before the process exits anyway (code 1), ms. */
  readonly shutdownTimeoutMs: number;
  /** How often a worker seals the log's hash chain (tamper evidence), seconds; 0: never. */
  readonly logSealIntervalSeconds: number;
  /** How long a PostgreSQL read model may stay behind the log without moving before /health says it stopped, seconds. */
  readonly readModelStallSeconds: number;
  /** Stream states kept in memory per process (0 turns the cache off). */
  readonly stateCacheEntries: number;
  /** How stale a process's view of an app may be when it authenticates an API key, ms. */
  readonly appStalenessMs: number;
  /**
   * argon2id cost of operator password hashes (ARGON2_MEMORY_KIB, ARGON2_TIME_COST): new hashes
   * are made at it, and a sign-in whose stored hash was made at other parameters stores a new one.
   */
  readonly argon2MemoryKiB: number;
  readonly argon2TimeCost: number;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Defaults of STATE_CACHE_ENTRIES and APP_CACHE_MS, also for services composed without this configuration (tests). */
export const DEFAULT_STATE_CACHE_ENTRIES = 20_000;
export const DEFAULT_APP_STALENESS_MS = 1000;
/** Default of DATABASE_POOL_SIZE, also for services composed without this configuration (tests). */
export const DEFAULT_POSTGRES_POOL_SIZE = 20;
/**
 * Default of MIGRATION_WAIT_S: five minutes for another process's migrations, or for a table a
 * long transaction holds, and the process exits (its orchestrator starts it again) rather than
 * stay unready for as long as the holder lives.
 */
export const DEFAULT_MIGRATION_WAIT_S = 300;
/** Default of READ_MODEL_STALL_S in ms, also for services composed without this configuration (tests). */
export const DEFAULT_READ_MODEL_STALL_MS = 60_000;
/** Default of REDIS_TIMEOUT_MS: a Redis call unanswered this long falls back (and counts towards opening the circuit). */
export const DEFAULT_REDIS_TIMEOUT_MS = 150;
/** Default of VERIFY_UNKNOWN_USERS_PER_APP, also for services composed without this configuration (tests). */
export const DEFAULT_UNKNOWN_USERS_PER_APP = 10_000;
/** Variables earlier versions read, and what replaced them: set, they are named in a warning at start. */
const RETIRED: Readonly<Record<string, string>> = {
  VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY:
    'VERIFY_UNKNOWN_USERS_PER_APP_PER_DAY is no longer read: the unknown-user decoy keeps counts for at most VERIFY_UNKNOWN_USERS_PER_APP usernames per app (default 10000), forgetting the least recently failed, and no longer stops counting new names',
};
/** Default of DELIVERY_TIMEOUT_MS: a provider request (Resend, Twilio, SMTP) unanswered this long is a transient failure, retried. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;

const str = optional(envVar('string', text));

/** An address as EMAIL_ADDRESS has always taken it: one '@', no spaces; nor control characters, '<' or '>', which belong to the named form. */
const BARE_ADDRESS = /^[^\s@<>\x00-\x1f\x7f]+@[^\s@<>\x00-\x1f\x7f]+$/;
/** `Display Name <address>`, the space before '<' optional; the name without control characters, '<', '>' or '"'. */
const NAMED_ADDRESS = /^([^<>"\x00-\x1f\x7f-\x9f]*)<([^<>]*)>$/;
/** `"Display Name" <address>`: a quoted name (RFC 5322), `\"` and `\\` escaped in it. */
const QUOTED_ADDRESS = /^"((?:[^"\\\x00-\x1f\x7f-\x9f]|\\["\\])*)"\s*<([^<>]*)>$/;
/** RFC 5322's specials: a display name holding one must be quoted, or it reads as something else (a comma as a second address). */
const NAME_SPECIALS = /[()<>[\]:;@\\,."]/;

/** The sender of code emails, its display name apart: what the SMTP sender gives nodemailer. */
export type EmailSender = { readonly name?: string; readonly address: string };

/**
 * EMAIL_ADDRESS read: a bare address, or a display name and one ("Acme <codes@acme.example>",
 * or quoted, "\"Acme, Inc.\" <codes@acme.example>"); undefined for anything else. The SMTP
 * sender reads the variable with this too, and hands nodemailer the name and the address apart:
 * parsing the text itself, nodemailer would take a comment out of "Acme (EU) <...>" and a group
 * out of "Acme: codes <...>".
 */
export const parseEmailSender = (value: string): EmailSender | undefined => {
  const trimmed = value.trim();
  if (BARE_ADDRESS.test(trimmed)) return { address: trimmed };
  const quoted = QUOTED_ADDRESS.exec(trimmed);
  const named = quoted ?? NAMED_ADDRESS.exec(trimmed);
  const name = quoted ? (quoted[1] ?? '').replace(/\\(["\\])/g, '$1') : (named?.[1]?.trim() ?? '');
  const address = named?.[2] ?? '';
  if (!BARE_ADDRESS.test(address)) return undefined;
  return name === '' ? { address } : { name, address };
};

/**
 * The sender as Resend reads a `from`: "Name <address>", the name quoted when it holds one of
 * RFC 5322's specials (a comma in "Acme, Inc." would otherwise read as a list of two addresses
 * and every email be refused at send time).
 */
export const formatEmailSender = ({ name, address }: EmailSender): string => {
  if (name === undefined) return address;
  return NAME_SPECIALS.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}" <${address}>` : `${name} <${address}>`;
};

/** EMAIL_ADDRESS as the providers are given it: the address, or "Name <address>" with one space. A refused value is described by its length only (see env-codecs' `echo`). */
const emailSender: Check<string> = (raw) => {
  const sender = parseEmailSender(raw);
  if (sender === undefined) return E.left(`must be an email address, or a name and one as Name <address>, got ${lengthOf(raw)}`);
  return E.right(formatEmailSender(sender));
};

const Env = t.type({
  PORT: withDefault(envVar('port', integer(1, 65535)), 8000),
  HOST: withDefault(envVar('host', listenHost), '0.0.0.0'),
  DATA_DIR: withDefault(envVar('path', text), './data'),
  MASTER_KEY: optional(envVar('master key', base64Key)),
  MASTER_KEY_ID: withDefault(envVar('key id', keyId), 'k1'),
  PREVIOUS_MASTER_KEYS: withDefault(envVar('previous keys', previousKeys), []),
  JWT_SECRET: optional(envVar('jwt secret', jwtSecret)),
  JWT_PRIVATE_KEY: optional(envVar('jwt private key', ed25519PrivateKey)),
  JWT_ISSUER: withDefault(envVar('issuer', text), 'otp-verify'),
  JWT_AUDIENCE: withDefault(envVar('audience', text), 'otp-verify-api'),
  ACCESS_TOKEN_EXPIRE_MINUTES: withDefault(envVar('minutes', integer(1, 1440)), 30),
  LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: withDefault(envVar('count', integer(1, 1_000_000)), 30),
  REGISTRATIONS_PER_IP_PER_HOUR: withDefault(envVar('count', integer(1, 1_000_000)), 20),
  APPS_PER_OPERATOR: withDefault(envVar('count', integer(1, 100_000)), 100),
  SENDS_PER_IP_PER_HOUR: withDefault(envVar('count', integer(1, 10_000_000)), 60),
  VERIFY_FAILURES_PER_DAY: withDefault(envVar('count', integer(1, FAILURES_KEPT)), 20),
  VERIFY_UNKNOWN_USERS_PER_APP: withDefault(envVar('count', integer(1, 1_000_000)), DEFAULT_UNKNOWN_USERS_PER_APP),
  WEB_CONCURRENCY: withDefault(envVar('count', integer(1, 64)), 1),
  DATABASE_URL: optional(envVar('postgres url', urlWithScheme(['postgres', 'postgresql']))),
  DATABASE_POOL_SIZE: withDefault(envVar('count', integer(2, 1000)), DEFAULT_POSTGRES_POOL_SIZE),
  MIGRATION_WAIT_S: withDefault(envVar('seconds', integer(0, 86_400)), DEFAULT_MIGRATION_WAIT_S),
  EVENTSTORE_CONNECTION_STRING: optional(
    envVar('kurrentdb url', urlWithScheme(['esdb', 'kurrentdb', 'esdb+discover', 'kurrentdb+discover'])),
  ),
  REDIS_URL: optional(envVar('redis url', urlWithScheme(['redis', 'rediss']))),
  REDIS_TIMEOUT_MS: withDefault(envVar('milliseconds', integer(10, 60_000)), DEFAULT_REDIS_TIMEOUT_MS),
  REDIS_KEY_PREFIX: withDefault(envVar('key prefix', matching(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits and . _ : - (at most 64)')), 'otp-verify:'),
  OUTBOX_FILE: str,
  RESEND_API_KEY: str,
  RESEND_WEBHOOK_SECRET: optional(envVar('signing secret', webhookSigningSecret)),
  RESEND_RATE_PER_SECOND: withDefault(envVar('count', integer(1, 10_000)), 2),
  EMAIL_ADDRESS: optional(envVar('email', emailSender)),
  TWILIO_ACCOUNT_SID: str,
  TWILIO_AUTH_TOKEN: str,
  TWILIO_PREVIOUS_AUTH_TOKEN: str,
  TWILIO_PHONE_NUMBER: str,
  TWILIO_WHATSAPP_NUMBER: str,
  TWILIO_WHATSAPP_CONTENT_SID: str,
  SMTP_URL: str,
  PUBLIC_URL: optional(envVar('url', publicBaseUrl)),
  DELIVERY_TIMEOUT_MS: withDefault(envVar('milliseconds', integer(100, 300_000)), DEFAULT_DELIVERY_TIMEOUT_MS),
  DELIVERY_RECEIPTS: withDefault(envVar('receipts', oneOf(deliveryReceiptModes)), 'record'),
  LOG_LEVEL: withDefault(envVar('log level', oneOf(logLevels)), 'info'),
  CORS_ORIGINS: withDefault(envVar('origins', commaList(httpOrigin)), []),
  TRUST_PROXY: withDefault(envVar('proxies', proxyHops), 0),
  PROCESS_ROLE: withDefault(envVar('role', oneOf(processRoles)), 'all'),
  OPERATOR_SIGNUP: withDefault(envVar('signup', oneOf(operatorSignups)), 'open'),
  KEEP_ALIVE_TIMEOUT_S: withDefault(envVar('seconds', integer(1, 3600)), 65),
  SHUTDOWN_DELAY_MS: withDefault(envVar('milliseconds', integer(0, 300_000)), 0),
  SHUTDOWN_TIMEOUT_MS: withDefault(envVar('milliseconds', integer(100, 600_000)), 10_000),
  LOG_SEAL_INTERVAL_S: withDefault(envVar('seconds', integer(0, 86_400)), 10),
  READ_MODEL_STALL_S: withDefault(envVar('seconds', integer(5, 86_400)), DEFAULT_READ_MODEL_STALL_MS / 1000),
  STATE_CACHE_ENTRIES: withDefault(envVar('count', integer(0, 10_000_000)), DEFAULT_STATE_CACHE_ENTRIES),
  APP_CACHE_MS: withDefault(envVar('milliseconds', integer(0, 60_000)), DEFAULT_APP_STALENESS_MS),
  ARGON2_MEMORY_KIB: withDefault(envVar('KiB', integer(MIN_MEMORY_COST_KIB, MAX_MEMORY_COST_KIB)), MIN_MEMORY_COST_KIB),
  ARGON2_TIME_COST: withDefault(envVar('passes', integer(MIN_TIME_COST, MAX_TIME_COST)), MIN_TIME_COST),
});

/** Every variable the configuration reads (the README's table lists each: a test holds them together). */
export const configVariables: readonly string[] = Object.keys(Env.props);

const sharedStorage = (env: NodeJS.ProcessEnv): boolean =>
  !isBlank(env['DATABASE_URL']) || !isBlank(env['EVENTSTORE_CONNECTION_STRING']);

/**
 * Which keys a process needs on shared storage: the service both; `audit` the master key only
 * (seals are MACed under a key derived from it; it issues no token); `projections` neither.
 */
export type KeysNeeded = 'master-and-jwt' | 'master' | 'none';

/** Rules spanning several variables; they read the raw values so they run even when decoding fails. */
const crossChecks = (env: NodeJS.ProcessEnv, keys: KeysNeeded): string[] => {
  const problems: string[] = [];
  const set = (name: string) => !isBlank(env[name]);
  if (sharedStorage(env)) {
    const why = 'when DATABASE_URL or EVENTSTORE_CONNECTION_STRING is set (every instance must share it)';
    if (keys !== 'none' && !set('MASTER_KEY')) problems.push(`MASTER_KEY is required ${why}: base64 of 32 bytes (openssl rand -base64 32)`);
    if (keys === 'master-and-jwt' && !set('JWT_SECRET') && !set('JWT_PRIVATE_KEY'))
      problems.push(`JWT_SECRET or JWT_PRIVATE_KEY is required ${why}: openssl rand -base64 48, or an Ed25519 key (openssl genpkey -algorithm ed25519)`);
  }
  if (set('JWT_SECRET') && set('JWT_PRIVATE_KEY')) problems.push('JWT_SECRET and JWT_PRIVATE_KEY are both set; set only one');
  // One secret in two roles: whoever reads one holds both the data and the tokens.
  if (set('JWT_SECRET') && (env['JWT_SECRET'] ?? '').trim() === (env['MASTER_KEY'] ?? '').trim())
    problems.push('JWT_SECRET must differ from MASTER_KEY (one signs tokens, the other wraps data keys)');
  // Several processes, or processes with split roles, coordinate through PostgreSQL (leader
  // election, read models, data keys); the embedded default and KurrentDB alone are one process.
  if (!set('DATABASE_URL')) {
    const processes = Number((env['WEB_CONCURRENCY'] ?? '').trim() || '1');
    if (Number.isInteger(processes) && processes > 1) problems.push(`WEB_CONCURRENCY=${processes} needs DATABASE_URL: without PostgreSQL the service runs as one process`);
    const role = (env['PROCESS_ROLE'] ?? '').trim();
    if (role === 'api' || role === 'worker')
      problems.push(`PROCESS_ROLE=${role} needs DATABASE_URL: without PostgreSQL one process must do everything (PROCESS_ROLE=all)`);
  }
  // A provider half configured would silently leave its channel on the outbox file.
  if ((set('RESEND_API_KEY') || set('SMTP_URL')) && !set('EMAIL_ADDRESS'))
    problems.push(`EMAIL_ADDRESS is required when ${set('RESEND_API_KEY') ? 'RESEND_API_KEY' : 'SMTP_URL'} is set: the sender of code emails`);
  // An API process only takes the webhooks (the workers send, and tag, the emails).
  if (set('RESEND_WEBHOOK_SECRET') && !set('RESEND_API_KEY') && (env['PROCESS_ROLE'] ?? '').trim() !== 'api')
    problems.push('RESEND_API_KEY is required when RESEND_WEBHOOK_SECRET is set (except with PROCESS_ROLE=api): the webhooks report on emails Resend sent');
  const twilio = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_PHONE_NUMBER', 'TWILIO_WHATSAPP_NUMBER', 'TWILIO_WHATSAPP_CONTENT_SID', 'TWILIO_PREVIOUS_AUTH_TOKEN'];
  if (twilio.some(set)) {
    for (const name of twilio.slice(0, 2)) if (!set(name)) problems.push(`${name} is required when any TWILIO_* variable is set`);
    if (!set('TWILIO_PHONE_NUMBER') && !set('TWILIO_WHATSAPP_NUMBER'))
      problems.push('TWILIO_PHONE_NUMBER (SMS) or TWILIO_WHATSAPP_NUMBER (WhatsApp) is required when any TWILIO_* variable is set');
    if (set('TWILIO_WHATSAPP_CONTENT_SID') && !set('TWILIO_WHATSAPP_NUMBER')) problems.push('TWILIO_WHATSAPP_NUMBER is required when TWILIO_WHATSAPP_CONTENT_SID is set');
    if (set('TWILIO_PREVIOUS_AUTH_TOKEN') && (env['TWILIO_PREVIOUS_AUTH_TOKEN'] ?? '').trim() === (env['TWILIO_AUTH_TOKEN'] ?? '').trim())
      problems.push('TWILIO_PREVIOUS_AUTH_TOKEN must differ from TWILIO_AUTH_TOKEN (it is the token before a rotation)');
  }
  // Neither id is shown (an id may be a key written in the wrong place): the entry is named by its position.
  const currentId = (env['MASTER_KEY_ID'] ?? '').trim() || 'k1';
  const reused = previousKeyEntries(env['PREVIOUS_MASTER_KEYS'] ?? '').findIndex((entry) => previousKeyId(entry) === currentId);
  if (reused >= 0) {
    const whose = set('MASTER_KEY_ID') ? 'MASTER_KEY_ID' : 'MASTER_KEY_ID (k1 when unset)';
    problems.push(`PREVIOUS_MASTER_KEYS must not reuse MASTER_KEY_ID, got entry ${reused + 1} with the id of ${whose}`);
  }
  return problems;
};

const describe = (errors: t.Errors): string[] =>
  errors.map((error) => {
    const name = error.context.find((entry) => entry.key !== '')?.key ?? 'environment';
    return `${name} ${error.message ?? 'is invalid'}`;
  });

export const loadConfig = (env: NodeJS.ProcessEnv, keys: KeysNeeded = 'master-and-jwt'): E.Either<ConfigError, Config> => {
  const decoded = Env.decode(env);
  const problems = [...(E.isLeft(decoded) ? describe(decoded.left) : []), ...crossChecks(env, keys)];
  if (problems.length > 0 || E.isLeft(decoded)) return E.left(new ConfigError(problems));
  const v = decoded.right;
  return E.right({
    port: v.PORT,
    host: v.HOST,
    dataDir: v.DATA_DIR,
    masterKey: v.MASTER_KEY,
    masterKeyId: v.MASTER_KEY_ID,
    previousMasterKeys: v.PREVIOUS_MASTER_KEYS,
    jwtSecret: v.JWT_SECRET,
    jwtPrivateKey: v.JWT_PRIVATE_KEY?.privateKeyPem,
    jwtPublicKey: v.JWT_PRIVATE_KEY?.publicKeyPem,
    jwtIssuer: v.JWT_ISSUER,
    jwtAudience: v.JWT_AUDIENCE,
    accessTokenExpireMinutes: v.ACCESS_TOKEN_EXPIRE_MINUTES,
    loginAttemptsPerIpPerMinute: v.LOGIN_ATTEMPTS_PER_IP_PER_MINUTE,
    registrationsPerIpPerHour: v.REGISTRATIONS_PER_IP_PER_HOUR,
    appsPerOperator: v.APPS_PER_OPERATOR,
    sendsPerIpPerHour: v.SENDS_PER_IP_PER_HOUR,
    verifyFailuresPerDay: v.VERIFY_FAILURES_PER_DAY,
    verifyUnknownUsersPerApp: v.VERIFY_UNKNOWN_USERS_PER_APP,
    retired: Object.entries(RETIRED).flatMap(([name, why]) => (isBlank(env[name]) ? [] : [why])),
    webConcurrency: v.WEB_CONCURRENCY,
    databaseUrl: v.DATABASE_URL,
    databasePoolSize: v.DATABASE_POOL_SIZE,
    migrationWaitSeconds: v.MIGRATION_WAIT_S,
    eventstoreConnectionString: v.EVENTSTORE_CONNECTION_STRING,
    redisUrl: v.REDIS_URL,
    redisKeyPrefix: v.REDIS_KEY_PREFIX,
    redisTimeoutMs: v.REDIS_TIMEOUT_MS,
    outboxFile: v.OUTBOX_FILE ?? (v.DATABASE_URL || v.EVENTSTORE_CONNECTION_STRING ? undefined : join(v.DATA_DIR, 'outbox.jsonl')),
    resendApiKey: v.RESEND_API_KEY,
    resendWebhookSecret: v.RESEND_WEBHOOK_SECRET,
    resendRatePerSecond: v.RESEND_RATE_PER_SECOND,
    emailAddress: v.EMAIL_ADDRESS,
    twilioAccountSid: v.TWILIO_ACCOUNT_SID,
    twilioAuthToken: v.TWILIO_AUTH_TOKEN,
    twilioPreviousAuthToken: v.TWILIO_PREVIOUS_AUTH_TOKEN,
    twilioPhoneNumber: v.TWILIO_PHONE_NUMBER,
    twilioWhatsappNumber: v.TWILIO_WHATSAPP_NUMBER,
    twilioWhatsappContentSid: v.TWILIO_WHATSAPP_CONTENT_SID,
    smtpUrl: v.SMTP_URL,
    publicUrl: v.PUBLIC_URL,
    deliveryTimeoutMs: v.DELIVERY_TIMEOUT_MS,
    deliveryReceipts: v.DELIVERY_RECEIPTS,
    logLevel: v.LOG_LEVEL,
    corsOrigins: v.CORS_ORIGINS,
    trustedProxies: v.TRUST_PROXY,
    processRole: v.PROCESS_ROLE,
    operatorSignup: v.OPERATOR_SIGNUP,
    keepAliveTimeoutSeconds: v.KEEP_ALIVE_TIMEOUT_S,
    shutdownDelayMs: v.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    logSealIntervalSeconds: v.LOG_SEAL_INTERVAL_S,
    readModelStallSeconds: v.READ_MODEL_STALL_S,
    stateCacheEntries: v.STATE_CACHE_ENTRIES,
    appStalenessMs: v.APP_CACHE_MS,
    argon2MemoryKiB: v.ARGON2_MEMORY_KIB,
    argon2TimeCost: v.ARGON2_TIME_COST,
  });
};

/** True for the zero-configuration setup: SQLite under DATA_DIR, keys generated on first start. */
export const usesEmbeddedStorage = (config: Config): boolean =>
  config.databaseUrl === undefined && config.eventstoreConnectionString === undefined;
