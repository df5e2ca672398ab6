import type { Document, ReadModels } from '../read-models.js';

/**
 * An operator's email as it is stored and looked up: lower case, Unicode NFC, so "José" typed
 * with "é" as one code point or as "e" and a combining accent is one address.
 */
export const emailKey = (email: string): string => email.toLowerCase().normalize('NFC');

/**
 * Every form an account's email may be stored in: its key, and as earlier builds stored it
 * (lower case only, before 2026-11-30), as typed and decomposed.
 */
export const emailKeys = (email: string): readonly string[] => {
  const key = emailKey(email);
  return [...new Set([key, email.toLowerCase(), key.normalize('NFD')])];
};

/** The `account_emails` document of the account with this email, in whichever form it was stored. */
export const findByEmail = async (readModels: Pick<ReadModels, 'get'>, email: string): Promise<Document | undefined> => {
  for (const key of emailKeys(email)) {
    const found = await readModels.get('account_emails', key);
    if (found) return found;
  }
  return undefined;
};
