import { totpAlgorithms, type TotpParameters } from '../../domain/shared/types.js';
import { createTotp, parseTotpSecret } from '../../infrastructure/otp/totp.js';
import { totpRules } from '../http/field-rules.js';

const USAGE = 'usage: totp <base32-secret> [digits 6|8] [period 30|60] [algorithm SHA1|SHA256|SHA512]';

/** The allowed value `text` writes in plain decimal ("6", not "6.0", " 6" or "0x6"), if any. */
const oneOf = <T extends number>(allowed: readonly T[], text: string): T | undefined => allowed.find((value) => String(value) === text);

/**
 * The arguments as the service would take them, or what is wrong with them (never echoing the
 * secret). Unchecked, a lower-case algorithm or a short secret ended in a stack trace, and 7
 * digits or a 45 s period printed a code no enrollment of the service can ask for.
 */
const parse = (args: readonly string[]): { secret: string; params: TotpParameters } | { problem: string } => {
  const [rawSecret = '', rawDigits = '6', rawPeriod = '30', rawAlgorithm = 'SHA1', ...extra] = args;
  const secret = parseTotpSecret(rawSecret);
  const digits = oneOf(totpRules.digits, rawDigits);
  const period = oneOf(totpRules.period, rawPeriod);
  const algorithm = totpAlgorithms.find((name) => name === rawAlgorithm.toUpperCase());
  if (extra.length > 0) return { problem: `${args.length} arguments, at most 4` };
  if (secret === null) return { problem: 'the secret must be base32 of at least 20 bytes (32 characters)' };
  if (digits === undefined) return { problem: `digits must be ${totpRules.digits.join(' or ')}` };
  if (period === undefined) return { problem: `period must be ${totpRules.period.join(' or ')}` };
  if (algorithm === undefined) return { problem: `algorithm must be ${totpAlgorithms.join(', ')}` };
  return { secret, params: { digits, period, algorithm } };
};

/**
 * `totp <base32-secret> [digits] [period] [algorithm]`: prints the current code, as an
 * authenticator app would show it. For trying the service from a terminal. Bad arguments
 * are one line on stderr and exit code 2.
 */
export const totpCommand = (args: readonly string[]): number => {
  if (args.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const parsed = parse(args);
  if ('problem' in parsed) {
    process.stderr.write(`totp: ${parsed.problem}; ${USAGE}\n`);
    return 2;
  }
  process.stdout.write(`${createTotp().generate(parsed.secret, parsed.params, new Date())}\n`);
  return 0;
};
