/**
 * Checks the signature on Resend's webhook calls with the SDK's own check (Standard Webhooks,
 * as Svix signs them). The SDK is imported only when the webhooks are taken, as for the sender.
 */
import { isLeft } from 'fp-ts/lib/Either.js';
import { webhookSigningSecret } from '../config/secret-codecs.js';

/** Resend's signature headers (Svix's names; Standard Webhooks' webhook-* also taken). */
export type ResendSignatureHeaders = { readonly id: string; readonly timestamp: string; readonly signature: string };

/** The verified event, parsed; undefined when the signature does not match, is missing, or is older or newer than 5 minutes. */
export type ResendSignatureCheck = (payload: string, headers: ResendSignatureHeaders) => unknown;

/**
 * Checks a call with the SDK's own check (Standard Webhooks: HMAC-SHA256 under the endpoint's
 * signing secret of the id, the timestamp and the raw body, compared in constant time; the
 * timestamp within 5 minutes of now, so a recorded call cannot be replayed later).
 * `secret`: RESEND_WEBHOOK_SECRET, the whsec_ secret Resend shows for the endpoint.
 */
export const createResendSignatureCheck = async (secret: string): Promise<ResendSignatureCheck> => {
  // The configuration's own rule for the secret (a caller that did not decode it still meets it).
  const checked = webhookSigningSecret(secret);
  if (isLeft(checked)) throw new Error(`Resend: RESEND_WEBHOOK_SECRET ${checked.left}`);
  const { Resend } = await import('resend');
  // The SDK's webhooks.verify needs no API key: it never calls Resend.
  const { webhooks } = new Resend('re_unused_for_verification');
  return (payload, headers) => {
    if (!headers.id || !headers.timestamp || !headers.signature) return undefined;
    try {
      return webhooks.verify({ payload, headers: { ...headers }, webhookSecret: secret }) ?? undefined;
    } catch {
      return undefined;
    }
  };
};
