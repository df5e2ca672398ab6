import type { Channel } from '../../domain/shared/types.js';

export type MessageContent = { readonly subject?: string; readonly body: string; readonly html?: string };

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The text that carries a code to a person. */
export const renderCodeMessage = (input: {
  readonly channel: Channel;
  readonly appName: string;
  readonly code: string;
  readonly ttlSeconds: number;
}): MessageContent => {
  const minutes = Math.max(1, Math.round(input.ttlSeconds / 60));
  const body = `Your ${input.appName} verification code is ${input.code}. It expires in ${minutes} minutes. Do not share this code with anyone.`;
  if (input.channel !== 'EMAIL') return { body };
  const app = escapeHtml(input.appName);
  return {
    subject: `${input.appName} verification code`,
    body,
    html: `<p>Your ${app} verification code is</p><p style="font-size:24px;font-weight:bold;letter-spacing:4px">${input.code}</p><p>It expires in ${minutes} minutes. Do not share this code with anyone.</p>`,
  };
};
