/**
 * Checks X-Twilio-Signature on Twilio's calls to the service, with the SDK's own check
 * (HMAC-SHA1 under the auth token of the URL Twilio called and its form fields sorted by name,
 * compared in constant time; the URL also tried with and without its default port). The SDK
 * is imported only when Twilio is configured, as for the senders.
 */
export type TwilioSignatureCheck = (url: string, params: Readonly<Record<string, string>>, signature: string) => boolean;

/**
 * `previous`: the token before a rotation (TWILIO_PREVIOUS_AUTH_TOKEN), accepted as well: Twilio
 * signs with its primary token, which stays the old one until the new one is promoted.
 */
export const createTwilioSignatureCheck = async (authToken: string, previous?: string): Promise<TwilioSignatureCheck> => {
  if (!authToken) throw new Error('Twilio: TWILIO_AUTH_TOKEN is required to check status callbacks');
  const { default: twilio } = await import('twilio');
  const tokens = previous ? [authToken, previous] : [authToken];
  return (url, params, signature) => tokens.some((token) => twilio.validateRequest(token, signature, url, { ...params }));
};
