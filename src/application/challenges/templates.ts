import type { MessageTemplates, TemplateKey } from '../../domain/client-app/index.js';
import type { Channel } from '../../domain/shared/types.js';

export type MessageContent = { readonly subject?: string; readonly body: string; readonly html?: string };

type Texts = Record<TemplateKey, string>;

/**
 * Built-in texts; placeholders {app}, {code}, {minutes}. SMS and WhatsApp warn against sharing
 * the code. Every SMS text is GSM-7 and, with an app name of GSM-7 characters, one segment.
 */
const builtIn: Readonly<Record<string, Texts>> = {
  en: {
    sms: '{code} is your {app} verification code. It expires in {minutes} minutes. Do not share it with anyone.',
    whatsapp: '{code} is your {app} verification code. It expires in {minutes} minutes. Do not share it with anyone.',
    email_subject: 'Your {app} verification code',
    email_text: 'Your {app} verification code is {code}.\n\nIt expires in {minutes} minutes. If you did not ask for it, ignore this message. Never share this code with anyone.',
  },
  es: {
    // SMS texts keep to GSM-7 (a single ó or ã makes the whole message UCS-2: 70 characters a
    // segment, not 160, so two segments and twice the price); WhatsApp has no segments.
    sms: '{code} es tu clave temporal de {app}. Caduca en {minutes} minutos. No la compartas con nadie.',
    whatsapp: '{code} es tu código de verificación de {app}. Caduca en {minutes} minutos. No lo compartas con nadie.',
    email_subject: 'Tu código de verificación de {app}',
    email_text: 'Tu código de verificación de {app} es {code}.\n\nCaduca en {minutes} minutos. Si no lo has pedido, ignora este mensaje. No compartas nunca este código.',
  },
  fr: {
    sms: '{code} est votre code de vérification {app}. Il expire dans {minutes} minutes. Ne le partagez avec personne.',
    whatsapp: '{code} est votre code de vérification {app}. Il expire dans {minutes} minutes. Ne le partagez avec personne.',
    email_subject: 'Votre code de vérification {app}',
    email_text: 'Votre code de vérification {app} est {code}.\n\nIl expire dans {minutes} minutes. Si vous ne l’avez pas demandé, ignorez ce message. Ne partagez jamais ce code.',
  },
  de: {
    sms: '{code} ist Ihr {app}-Bestätigungscode. Er läuft in {minutes} Minuten ab. Geben Sie ihn niemandem weiter.',
    whatsapp: '{code} ist Ihr {app}-Bestätigungscode. Er läuft in {minutes} Minuten ab. Geben Sie ihn niemandem weiter.',
    email_subject: 'Ihr {app}-Bestätigungscode',
    email_text: 'Ihr {app}-Bestätigungscode lautet {code}.\n\nEr läuft in {minutes} Minuten ab. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht. Geben Sie den Code niemals weiter.',
  },
  pt: {
    sms: '{code} é o seu PIN de {app}. Expira em {minutes} minutos. Nunca o partilhe com ninguém.',
    whatsapp: '{code} é o seu código de verificação {app}. Expira em {minutes} minutos. Não o partilhe com ninguém.',
    email_subject: 'O seu código de verificação {app}',
    email_text: 'O seu código de verificação {app} é {code}.\n\nExpira em {minutes} minutos. Se não o pediu, ignore esta mensagem. Nunca partilhe este código.',
  },
};

export const builtInLocales = Object.keys(builtIn);

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fill = (template: string, values: Record<'app' | 'code' | 'minutes', string>): string =>
  template.replace(/\{(app|code|minutes)\}/g, (_, key: 'app' | 'code' | 'minutes') => values[key]);

/**
 * The tags a locale's texts are looked up under, most precise first: the tag, its language and
 * region without script or variants (`zh-Hant-TW` → `zh-TW`), its language (`pt-BR` → `pt`).
 */
const lookupChain = (locale: string): readonly string[] => {
  const [language = locale, ...subtags] = locale.split('-');
  const region = subtags.find((tag) => /^[A-Z]{2}$/.test(tag));
  return [...new Set([locale, ...(region === undefined ? [] : [`${language}-${region}`]), language])];
};

/** The app's text, else the built-in one, for `locale` or a broader tag of it (lookupChain). */
const inLocale = (locale: string, overrides: MessageTemplates | null, key: TemplateKey): string | undefined => {
  const chain = lookupChain(locale);
  for (const tag of chain) if (overrides?.[tag]?.[key] !== undefined) return overrides[tag]![key];
  for (const tag of chain) if (builtIn[tag]?.[key] !== undefined) return builtIn[tag]![key];
  return undefined;
};

/** The requested locale; where nothing is written in it, the app's default locale; then English. */
const pick = (locale: string, defaultLocale: string, overrides: MessageTemplates | null, key: TemplateKey): string =>
  inLocale(locale, overrides, key) ?? inLocale(defaultLocale, overrides, key) ?? builtIn['en']![key];

/** The HTML part is built from the text part, escaped, so an override can never inject markup. */
const toHtml = (text: string, code: string): string => {
  const paragraphs = escapeHtml(text)
    .split(/\n{2,}/)
    .map((p) => `<p style="margin:0 0 16px">${p.replace(/\n/g, '<br>')}</p>`)
    .join('');
  const highlighted = paragraphs.replace(escapeHtml(code), `<strong style="font-size:24px;letter-spacing:4px">${escapeHtml(code)}</strong>`);
  return `<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111;max-width:480px;margin:24px auto">${highlighted}</body></html>`;
};

export const renderCodeMessage = (input: {
  readonly channel: Channel;
  readonly locale: string;
  /** The app's `default_locale`: used where nothing is written in `locale`, before English. */
  readonly defaultLocale: string;
  readonly appName: string;
  readonly code: string;
  readonly ttlSeconds: number;
  readonly templates: MessageTemplates | null;
}): MessageContent => {
  const values = { app: input.appName, code: input.code, minutes: String(Math.max(1, Math.round(input.ttlSeconds / 60))) };
  if (input.channel === 'SMS') return { body: fill(pick(input.locale, input.defaultLocale, input.templates, 'sms'), values) };
  if (input.channel === 'WHATSAPP') return { body: fill(pick(input.locale, input.defaultLocale, input.templates, 'whatsapp'), values) };
  const body = fill(pick(input.locale, input.defaultLocale, input.templates, 'email_text'), values);
  return { subject: fill(pick(input.locale, input.defaultLocale, input.templates, 'email_subject'), values), body, html: toHtml(body, input.code) };
};
