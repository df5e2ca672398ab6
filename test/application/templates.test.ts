/**
 * Code messages: built-in texts per locale with fallbacks (pt-BR to pt, unknown to en), the
 * warning not to share the code, email subject/text/HTML with the app name escaped in HTML,
 * and per-app overrides winning over the built-ins; then the same through the real service.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { renderCodeMessage } from '../../src/application/challenges/templates.js';
import type { MessageTemplates } from '../../src/domain/client-app/index.js';
import { codeFromOutbox, newApp, newOperator, readOutbox } from '../support/flows.js';
import { createClient, type Client } from '../support/http-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const code = '042917';
const render = (
  channel: 'SMS' | 'WHATSAPP' | 'EMAIL',
  locale: string,
  options: { appName?: string; templates?: MessageTemplates | null; ttlSeconds?: number; defaultLocale?: string } = {},
) =>
  renderCodeMessage({
    channel,
    locale,
    defaultLocale: options.defaultLocale ?? 'en',
    appName: options.appName ?? 'Acme',
    code,
    ttlSeconds: options.ttlSeconds ?? 600,
    templates: options.templates ?? null,
  });

const whatsapp: Record<string, string> = {
  en: '042917 is your Acme verification code. It expires in 10 minutes. Do not share it with anyone.',
  es: '042917 es tu código de verificación de Acme. Caduca en 10 minutos. No lo compartas con nadie.',
  fr: '042917 est votre code de vérification Acme. Il expire dans 10 minutes. Ne le partagez avec personne.',
  de: '042917 ist Ihr Acme-Bestätigungscode. Er läuft in 10 Minuten ab. Geben Sie ihn niemandem weiter.',
  pt: '042917 é o seu código de verificação Acme. Expira em 10 minutos. Não o partilhe com ninguém.',
};
/** As WhatsApp, but in GSM-7 where WhatsApp's text is not (es, pt). */
const sms: Record<string, string> = {
  ...whatsapp,
  es: '042917 es tu clave temporal de Acme. Caduca en 10 minutos. No la compartas con nadie.',
  pt: '042917 é o seu PIN de Acme. Expira em 10 minutos. Nunca o partilhe com ninguém.',
};

/** GSM 03.38's default alphabet and its extension table: what an SMS carries at 160 characters a segment. */
const GSM7 = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€',
);
/** Segments of an SMS text: GSM-7 160 (153 each when split, extension characters counting two), else UCS-2 70 (67). */
const segments = (text: string): number => {
  const chars = [...text];
  if (chars.every((c) => GSM7.has(c))) {
    const septets = chars.reduce((n, c) => n + ('^{}\\[~]|€'.includes(c) ? 2 : 1), 0);
    return septets <= 160 ? 1 : Math.ceil(septets / 153);
  }
  const units = text.length;
  return units <= 70 ? 1 : Math.ceil(units / 67);
};
const subjects: Record<string, string> = {
  en: 'Your Acme verification code',
  es: 'Tu código de verificación de Acme',
  fr: 'Votre code de vérification Acme',
  de: 'Ihr Acme-Bestätigungscode',
  pt: 'O seu código de verificação Acme',
};
/** The "do not share" sentence of each locale's email. */
const emailWarnings: Record<string, string> = {
  en: 'Never share this code with anyone.',
  es: 'No compartas nunca este código.',
  fr: 'Ne partagez jamais ce code.',
  de: 'Geben Sie den Code niemals weiter.',
  pt: 'Nunca partilhe este código.',
};

describe('renderCodeMessage', () => {
  it.each(Object.keys(sms))('%s: SMS and WhatsApp carry the code, the app, the minutes and a warning not to share', (locale) => {
    expect(render('SMS', locale)).toEqual({ body: sms[locale] });
    expect(render('WHATSAPP', locale)).toEqual({ body: whatsapp[locale] });
  });

  it.each(Object.keys(sms))('%s: the SMS is GSM-7 and one segment, for the longest code and time, with a 40-character app name', (locale) => {
    const body = renderCodeMessage({ channel: 'SMS', locale, defaultLocale: 'en', appName: 'Acme Online Banking and Payments Service', code: '0123456789', ttlSeconds: 86_400, templates: null }).body;
    expect([...body].filter((c) => !GSM7.has(c))).toEqual([]);
    expect(segments(body)).toBe(1);
  });

  it('counts segments as carriers do (the check above can fail)', () => {
    expect(segments(whatsapp['es']!)).toBe(2);
    expect(segments('a'.repeat(160))).toBe(1);
    expect(segments('a'.repeat(161))).toBe(2);
  });

  it.each(Object.keys(sms))('%s: email has a subject, a text and an HTML part', (locale) => {
    const message = render('EMAIL', locale);
    expect(message.subject).toBe(subjects[locale]);
    expect(message.body).toContain(code);
    expect(message.body).toContain(emailWarnings[locale]);
    expect(message.body).toMatch(/\b10\b/);
    expect(message.html).toMatch(/^<!doctype html><html>/);
    expect(message.html).toContain(`<strong style="font-size:24px;letter-spacing:4px">${code}</strong>`);
    expect(message.html).toContain(emailWarnings[locale]);
  });

  it('pt-BR falls back to pt, an unknown locale (xx) and a region of one (en-GB, xx-XX) to en', () => {
    expect(render('SMS', 'pt-BR')).toEqual(render('SMS', 'pt'));
    expect(render('EMAIL', 'pt-BR')).toEqual(render('EMAIL', 'pt'));
    expect(render('SMS', 'es-MX')).toEqual(render('SMS', 'es'));
    for (const locale of ['xx', 'xx-XX', 'en-GB']) {
      expect(render('SMS', locale)).toEqual({ body: sms['en'] });
      expect(render('EMAIL', locale)).toEqual(render('EMAIL', 'en'));
    }
  });

  it('a tag with a script or a numeric region falls back on its language and region, then its language', () => {
    expect(render('SMS', 'es-419')).toEqual(render('SMS', 'es'));
    expect(render('SMS', 'pt-Latn-BR')).toEqual(render('SMS', 'pt'));
    const templates: MessageTemplates = { 'zh-TW': { sms: '{app} 驗證碼 {code}' }, zh: { sms: '{app} 验证码 {code}' } };
    expect(render('SMS', 'zh-Hant-TW', { templates })).toEqual({ body: 'Acme 驗證碼 042917' });
    expect(render('SMS', 'zh-Hans', { templates })).toEqual({ body: 'Acme 验证码 042917' });
    expect(render('SMS', 'zh-Hans-CN', { templates })).toEqual({ body: 'Acme 验证码 042917' });
  });

  it("where nothing is written in the requested locale, the app's default locale (its text, else the built-in one) comes before English", () => {
    const templates: MessageTemplates = { de: { sms: 'Code {code} für {app}.' } };
    expect(render('SMS', 'ja', { defaultLocale: 'de', templates })).toEqual({ body: 'Code 042917 für Acme.' });
    expect(render('SMS', 'ja', { defaultLocale: 'fr' })).toEqual({ body: sms['fr'] });
    expect(render('SMS', 'ja', { defaultLocale: 'pt-BR' })).toEqual({ body: sms['pt'] });
    // A locale with its own built-in text keeps it: the default is only a fallback.
    expect(render('SMS', 'es', { defaultLocale: 'de', templates })).toEqual({ body: sms['es'] });
    expect(render('SMS', 'ja', { defaultLocale: 'xx' })).toEqual({ body: sms['en'] });
  });

  it('says the lifetime in words of its language: seconds under a minute, whole minutes never over by more than 10 s, whole hours, singular for one', () => {
    const said = (locale: string, ttlSeconds: number) => render('SMS', locale, { ttlSeconds }).body;
    expect(said('en', 300)).toContain('expires in 5 minutes.');
    expect(said('en', 598)).toContain('expires in 10 minutes.');
    expect(said('en', 589)).toContain('expires in 9 minutes.');
    expect(said('en', 90)).toContain('expires in 1 minute.');
    expect(said('en', 60)).toContain('expires in 1 minute.');
    expect(said('en', 30)).toContain('expires in 30 seconds.');
    expect(said('en', 1)).toContain('expires in 1 second.');
    expect(said('en', 3_600)).toContain('expires in 1 hour.');
    expect(said('en', 86_400)).toContain('expires in 24 hours.');
    expect(said('en', 5_400)).toContain('expires in 90 minutes.');
    expect(said('es', 60)).toContain('Caduca en 1 minuto.');
    expect(said('es', 30)).toContain('Caduca en 30 segundos.');
    expect(said('fr', 7_200)).toContain('Il expire dans 2 heures.');
    expect(said('de', 60)).toContain('Er läuft in 1 Minute ab.');
    expect(said('de', 45)).toContain('Er läuft in 45 Sekunden ab.');
    expect(said('pt', 3_600)).toContain('Expira em 1 hora.');
  });

  it("fills an override's {minutes} with the whole minutes and {duration} with the words of the text's language", () => {
    const templates: MessageTemplates = { es: { sms: '{code}: {minutes} min, {duration}' }, ja: { sms: '{code} ({duration})' } };
    expect(render('SMS', 'es', { templates, ttlSeconds: 30 }).body).toBe('042917: 1 min, 30 segundos');
    expect(render('SMS', 'es-MX', { templates, ttlSeconds: 600 }).body).toBe('042917: 10 min, 10 minutos');
    // A language without built-in words takes English's.
    expect(render('SMS', 'ja', { templates, ttlSeconds: 120 }).body).toBe('042917 (2 minutes)');
  });

  it('escapes the app name (and everything else) in the HTML part', () => {
    const appName = `<script>alert("x")</script> & 'Co'`;
    const message = render('EMAIL', 'en', { appName });
    expect(message.html).not.toContain('<script>');
    expect(message.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;');
    // The subject and text are not HTML: they keep the name as it is.
    expect(message.subject).toBe(`Your ${appName} verification code`);
    expect(message.body).toContain(appName);
  });

  it('lets per-app overrides win over the built-ins, key by key and locale by locale', () => {
    const templates: MessageTemplates = {
      en: { sms: 'Acme code: {code} ({minutes} min)', email_subject: '[{app}] sign-in code' },
      pt: { sms: 'Código {app}: {code}' },
      'pt-BR': { whatsapp: 'Seu código {app}: {code}' },
    };
    expect(render('SMS', 'en', { templates })).toEqual({ body: 'Acme code: 042917 (10 min)' });
    // A key without an override keeps the built-in text.
    expect(render('WHATSAPP', 'en', { templates })).toEqual({ body: sms['en'] });
    const email = render('EMAIL', 'en', { templates });
    expect(email.subject).toBe('[Acme] sign-in code');
    expect(email.body).toBe(render('EMAIL', 'en').body);
    // pt-BR: its own override first, then pt's, then the built-in pt.
    expect(render('WHATSAPP', 'pt-BR', { templates })).toEqual({ body: 'Seu código Acme: 042917' });
    expect(render('SMS', 'pt-BR', { templates })).toEqual({ body: 'Código Acme: 042917' });
    expect(render('SMS', 'es', { templates })).toEqual({ body: sms['es'] });
  });

  it('escapes markup from an override in the HTML part, and fills every placeholder', () => {
    const templates: MessageTemplates = { en: { email_text: '<b>{code}</b> for {app}, {minutes} min. {code}' } };
    const message = render('EMAIL', 'en', { templates, appName: 'A&B' });
    expect(message.body).toBe('<b>042917</b> for A&B, 10 min. 042917');
    expect(message.html).not.toContain('<b>');
    expect(message.html).toContain('&lt;b&gt;');
    expect(message.html).toContain('A&amp;B');
    expect(message.html).not.toMatch(/\{(app|code|minutes)\}/);
  });
});

describe('localized messages through the service', () => {
  let server: TestServer;
  let client: Client;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ inMemory: true, limits: { sendsPerIpPerHour: 100_000 } });
    client = createClient(server.url);
    token = (await newOperator(client)).token;
  });
  afterAll(() => server.close());

  const sendAndRead = async (apiKey: string, body: object) => {
    const sent = await client.post('/api/code/send', { apiKey, body });
    expect(sent.status).toBe(202);
    const id: string = sent.body.challenge_id;
    const code = await codeFromOutbox(server.outboxFile, id);
    return { code, message: readOutbox(server.outboxFile).find((m) => m.challenge_id === id)! };
  };

  it("a send with locale 'es' puts the Spanish text in the outbox", async () => {
    const app = await newApp(client, token);
    const { code, message } = await sendAndRead(app.apiKey, { username: 'lucia', channel: 'SMS', to: '+34699000001', locale: 'es' });
    expect(message.body).toBe(`${code} es tu clave temporal de ${app.name}. Caduca en 10 minutos. No la compartas con nadie.`);
    const email = await sendAndRead(app.apiKey, { username: 'lucia', channel: 'EMAIL', to: 'lucia@example.org', locale: 'es' });
    expect(email.message.subject).toBe(`Tu código de verificación de ${app.name}`);
  });

  it("without a locale, the app's default_locale; with pt-BR, Portuguese", async () => {
    const app = await newApp(client, token, { default_locale: 'fr' });
    const french = await sendAndRead(app.apiKey, { username: 'louis', channel: 'SMS', to: '+34699000002' });
    expect(french.message.body).toBe(`${french.code} est votre code de vérification ${app.name}. Il expire dans 10 minutes. Ne le partagez avec personne.`);
    const portuguese = await sendAndRead(app.apiKey, { username: 'joao', channel: 'SMS', to: '+34699000003', locale: 'pt-BR' });
    expect(portuguese.message.body).toContain('é o seu PIN de');
  });

  it('takes a locale as Accept-Language gives it (any case, a numeric region) and sends in its language', async () => {
    const app = await newApp(client, token);
    const spanish = await sendAndRead(app.apiKey, { username: 'ines', channel: 'SMS', to: '+34699000004', locale: 'es-419' });
    expect(spanish.message.body).toContain('es tu clave temporal de');
    const portuguese = await sendAndRead(app.apiKey, { username: 'ana', channel: 'SMS', to: '+34699000005', locale: 'PT-br' });
    expect(portuguese.message.body).toContain('é o seu PIN de');
    // A deprecated code an app keeps its texts under still finds them (Intl would make iw he).
    const hebrew = await newApp(client, token, { templates: { iw: { sms: '{code} קוד' } } });
    expect((await sendAndRead(hebrew.apiKey, { username: 'dan', channel: 'SMS', to: '+34699000007', locale: 'iw' })).message.body).toMatch(/^[0-9]{6} קוד$/);
    const refused = await client.post('/api/code/send', { apiKey: app.apiKey, body: { username: 'ana', channel: 'SMS', to: '+34699000006', locale: 'en-a' } });
    expect([refused.status, refused.body.details?.[0]?.field]).toEqual([400, 'locale']);
  });

  it("the app's template overrides reach the outbox", async () => {
    const app = await newApp(client, token, { templates: { de: { sms: 'Code {code} für {app}' } } });
    const { code, message } = await sendAndRead(app.apiKey, { username: 'greta', channel: 'SMS', to: '+34699000004', locale: 'de' });
    expect(message.body).toBe(`Code ${code} für ${app.name}`);
  });
});
