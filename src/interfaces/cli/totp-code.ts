import { createTotp } from '../../infrastructure/otp/totp.js';

/**
 * `totp <base32-secret> [digits] [period] [algorithm]`: prints the current code, as an
 * authenticator app would show it. For trying the service from a terminal.
 */
export const totpCommand = (args: readonly string[]): number => {
  const [secret, digits = '6', period = '30', algorithm = 'SHA1'] = args;
  if (secret === undefined) {
    process.stderr.write('usage: totp <base32-secret> [digits 6|8] [period 30|60] [algorithm SHA1|SHA256|SHA512]\n');
    return 2;
  }
  const params = { digits: Number(digits) as 6 | 8, period: Number(period) as 30 | 60, algorithm: algorithm as 'SHA1' | 'SHA256' | 'SHA512' };
  process.stdout.write(`${createTotp().generate(secret, params, new Date())}\n`);
  return 0;
};
