import { templatePlaceholders, type MessageTemplates, type TemplateKey } from '../../domain/client-app/index.js';
import type { Channel } from '../../domain/shared/types.js';

export type MessageContent = { readonly subject?: string; readonly body: string; readonly html?: string };

type Texts = Record<TemplateKey, string>;

/**
 * Built-in texts; placeholders {app}, {code}, {duration} ({minutes} too in overrides). SMS and
 * WhatsApp warn against sharing the code. Every SMS text is GSM-7 and, with an app name of GSM-7
 * characters, one segment.
 */
const builtIn: Readonly<Record<string, Texts>> = {
  en: {
    sms: '{code} is your {app} verification code. It expires in {duration}. Do not share it with anyone.',
    whatsapp: '{code} is your {app} verification code. It expires in {duration}. Do not share it with anyone.',
    email_subject: 'Your {app} verification code',
    email_text: 'Your {app} verification code is {code}.\n\nIt expires in {duration}. If you did not ask for it, ignore this message. Never share this code with anyone.',
  },
  es: {
    // SMS texts keep to GSM-7 (a single ó or ã makes the whole message UCS-2: 70 characters a
    // segment, not 160, so two segments and twice the price); WhatsApp has no segments.
    sms: '{code} es tu clave temporal de {app}. Caduca en {duration}. No la compartas con nadie.',
    whatsapp: '{code} es tu código de verificación de {app}. Caduca en {duration}. No lo compartas con nadie.',
    email_subject: 'Tu código de verificación de {app}',
    email_text: 'Tu código de verificación de {app} es {code}.\n\nCaduca en {duration}. Si no lo has pedido, ignora este mensaje. No compartas nunca este código.',
  },
  fr: {
    sms: '{code} est votre code de vérification {app}. Il expire dans {duration}. Ne le partagez avec personne.',
    whatsapp: '{code} est votre code de vérification {app}. Il expire dans {duration}. Ne le partagez avec personne.',
    email_subject: 'Votre code de vérification {app}',
    email_text: 'Votre code de vérification {app} est {code}.\n\nIl expire dans {duration}. Si vous ne l’avez pas demandé, ignorez ce message. Ne partagez jamais ce code.',
  },
  de: {
    sms: '{code} ist Ihr {app}-Bestätigungscode. Er läuft in {duration} ab. Geben Sie ihn niemandem weiter.',
    whatsapp: '{code} ist Ihr {app}-Bestätigungscode. Er läuft in {duration} ab. Geben Sie ihn niemandem weiter.',
    email_subject: 'Ihr {app}-Bestätigungscode',
    email_text: 'Ihr {app}-Bestätigungscode lautet {code}.\n\nEr läuft in {duration} ab. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht. Geben Sie den Code niemals weiter.',
  },
  pt: {
    sms: '{code} é o seu PIN de {app}. Expira em {duration}. Nunca o partilhe com ninguém.',
    whatsapp: '{code} é o seu código de verificação {app}. Expira em {duration}. Não o partilhe com ninguém.',
    email_subject: 'O seu código de verificação {app}',
    email_text: 'O seu código de verificação {app} é {code}.\n\nExpira em {duration}. Se não o pediu, ignore esta mensagem. Nunca partilhe este código.',
  },
};

export const builtInLocales = Object.keys(builtIn);

/** One and many of each unit, per language with built-in texts. */
type Units = Readonly<Record<'second' | 'minute' | 'hour', readonly [one: string, many: string]>>;
const units: Readonly<Record<string, Units>> = {
  en: { second: ['second', 'seconds'], minute: ['minute', 'minutes'], hour: ['hour', 'hours'] },
  es: { second: ['segundo', 'segundos'], minute: ['minuto', 'minutos'], hour: ['hora', 'horas'] },
  fr: { second: ['seconde', 'secondes'], minute: ['minute', 'minutes'], hour: ['heure', 'heures'] },
  de: { second: ['Sekunde', 'Sekunden'], minute: ['Minute', 'Minuten'], hour: ['Stunde', 'Stunden'] },
  pt: { second: ['segundo', 'segundos'], minute: ['minuto', 'minutos'], hour: ['hora', 'horas'] },
};

/**
 * The whole minutes a message may claim for `ttlSeconds` left: never more than 10 s over (a
 * code sent a second ago with 600 s still says 10), at least one. Rounding said "2 minutes" of
 * 90 s, and "1 minutes" of 30.
 */
export const claimedMinutes = (ttlSeconds: number): number => Math.max(1, Math.floor((ttlSeconds + 10) / 60));

/**
 * `ttlSeconds` in words of `language` (English where it has no units): seconds under 50 s (from
 * there the claimed minute is at most 10 s over), whole hours as hours, else whole minutes.
 */
const durationIn = (language: string, ttlSeconds: number): string => {
  const words = units[language] ?? units['en']!;
  const [amount, unit] =
    ttlSeconds < 50 ? [Math.max(1, Math.round(ttlSeconds)), 'second' as const] : claimedMinutes(ttlSeconds) % 60 === 0 ? [claimedMinutes(ttlSeconds) / 60, 'hour' as const] : [claimedMinutes(ttlSeconds), 'minute' as const];
  return `${amount} ${words[unit][amount === 1 ? 0 : 1]}`;
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

type Placeholder = (typeof templatePlaceholders)[number];

const PLACEHOLDERS = new RegExp(`\\{(${templatePlaceholders.join('|')})\\}`, 'g');
const fill = (template: string, values: Record<Placeholder, string>): string => template.replace(PLACEHOLDERS, (_, key: Placeholder) => values[key]);

/**
 * The tags a locale's texts are looked up under, most precise first: the tag, its language and
 * region without script or variants (`zh-Hant-TW` → `zh-TW`), its language (`pt-BR` → `pt`).
 */
const lookupChain = (locale: string): readonly string[] => {
  const [language = locale, ...subtags] = locale.split('-');
  const region = subtags.find((tag) => /^[A-Z]{2}$/.test(tag));
  return [...new Set([locale, ...(region === undefined ? [] : [`${language}-${region}`]), language])];
};

/** A text and the language it is written in (whose units its {duration} takes). */
type Found = { readonly text: string; readonly language: string };

/** The app's text, else the built-in one, for `locale` or a broader tag of it (lookupChain). */
const inLocale = (locale: string, overrides: MessageTemplates | null, key: TemplateKey): Found | undefined => {
  const chain = lookupChain(locale);
  const language = chain[chain.length - 1]!;
  for (const tag of chain) if (overrides?.[tag]?.[key] !== undefined) return { text: overrides[tag]![key]!, language };
  for (const tag of chain) if (builtIn[tag]?.[key] !== undefined) return { text: builtIn[tag]![key], language };
  return undefined;
};

/** The requested locale; where nothing is written in it, the app's default locale; then English. */
const pick = (locale: string, defaultLocale: string, overrides: MessageTemplates | null, key: TemplateKey): Found =>
  inLocale(locale, overrides, key) ?? inLocale(defaultLocale, overrides, key) ?? { text: builtIn['en']![key], language: 'en' };

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
  const render = (key: TemplateKey): string => {
    const { text, language } = pick(input.locale, input.defaultLocale, input.templates, key);
    const values = { app: input.appName, code: input.code, minutes: String(claimedMinutes(input.ttlSeconds)), duration: durationIn(language, input.ttlSeconds) };
    return fill(text, values);
  };
  if (input.channel === 'SMS') return { body: render('sms') };
  if (input.channel === 'WHATSAPP') return { body: render('whatsapp') };
  const body = render('email_text');
  return { subject: render('email_subject'), body, html: toHtml(body, input.code) };
};
