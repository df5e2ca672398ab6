export const otpMethods = ['TOTP', 'SMS', 'EMAIL', 'WHATSAPP'] as const;
export type OtpMethod = (typeof otpMethods)[number];

export const channels = ['SMS', 'EMAIL', 'WHATSAPP'] as const;
export type Channel = (typeof channels)[number];

export const challengeStatuses = ['PENDING', 'APPROVED', 'CANCELED', 'EXPIRED', 'MAX_ATTEMPTS_REACHED'] as const;
export type ChallengeStatus = (typeof challengeStatuses)[number];

export const totpAlgorithms = ['SHA1', 'SHA256', 'SHA512'] as const;
export type TotpAlgorithm = (typeof totpAlgorithms)[number];

export type TotpParameters = {
  readonly digits: 6 | 8;
  readonly period: 30 | 60;
  readonly algorithm: TotpAlgorithm;
};
