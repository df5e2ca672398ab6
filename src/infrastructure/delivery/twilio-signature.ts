/**
 * Checks X-Twilio-Signature on Twilio's calls to the service, with the SDK's own check
 * (HMAC-SHA1 under the auth token of the URL Twilio called and its form fields sorted by name,
 * compared in constant time; the URL also tried with and without its default port). The SDK
 * is imported only when Twilio is configured, as for the senders.
 */
export type TwilioSignatureCheck = (url: string, params: Readonly<Record<string, string>>, signature: string) => boolean;

export const createTwilioSignatureCheck = async (authToken: string): Promise<TwilioSignatureCheck> => {
  if (!authToken) throw new Error('Twilio: TWILIO_AUTH_TOKEN is required to check status callbacks');
  const { default: twilio } = await import('twilio');
  return (url, params, signature) => twilio.validateRequest(authToken, signature, url, { ...params });
};
