import { describe, expect, it } from '@jest/globals';
import jsQRModule from 'jsqr';
import pngjs from 'pngjs';
import QRCode from 'qrcode';
import { createQrCodeRenderer } from '../../../src/infrastructure/otp/qr-code.js';
import { createTotp } from '../../../src/infrastructure/otp/totp.js';
import { stringRules } from '../../../src/interfaces/http/field-rules.js';

// jsqr is CommonJS with an ES-style default in its types: NodeNext sees the module, Jest the function.
type Decode = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR = ((jsQRModule as unknown as { default?: Decode }).default ?? jsQRModule) as unknown as Decode;

/** Light (true) or dark per pixel, whatever the PNG's colour type and bit depth. */
const pixels = (png: Buffer): { width: number; height: number; light: boolean[] } => {
  const image = pngjs.PNG.sync.read(png);
  const light: boolean[] = [];
  for (let i = 0; i < image.width * image.height; i++) light.push(image.data[i * 4]! > 127);
  return { width: image.width, height: image.height, light };
};

/** Modules per side of the symbol qrcode makes for `text`, without its quiet zone. */
const modulesOf = (text: string): number => QRCode.create(text, { errorCorrectionLevel: 'M' }).modules.size;

/**
 * Quiet zone and module size measured on the image itself: light pixels down the diagonal up
 * to the top-left finder pattern's corner, then its dark top edge, which is 7 modules long.
 */
const geometry = (png: Buffer): { width: number; height: number; quietPx: number; modulePx: number } => {
  const { width, height, light } = pixels(png);
  let quietPx = 0;
  while (quietPx < width && light[quietPx * width + quietPx]) quietPx++;
  let edge = 0;
  while (quietPx + edge < width && !light[quietPx * width + quietPx + edge]) edge++;
  return { width, height, quietPx, modulePx: edge / 7 };
};

/**
 * otpauth URIs as long as the API lets them be: an issuer of the longest (100 characters, an
 * app's name or its issuer) and a username of 128. An emoji is 4 UTF-8 bytes, 12 URI characters;
 * '@' is 3 in the label. The last is the review's example (version 21 here), never decoded at 256 px.
 */
const longestUris = (): string[] => {
  const totp = createTotp();
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  return [
    ['😀'.repeat(stringRules.issuer.maxLength), '@'.repeat(stringRules.username.maxLength)],
    ['国'.repeat(stringRules.appName.maxLength), 'a'.repeat(stringRules.username.maxLength)],
    ['Государственная информационная система «Госуслуги» — личный кабинет', 'firstname.lastname1@example.com'],
  ].map(([issuer, account]) => totp.uri({ secret, issuer: issuer!, account: account!, digits: 8, period: 60, algorithm: 'SHA512' }));
};

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const uri = 'otpauth://totp/ACME:jo%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&algorithm=SHA1&digits=6&period=30';

describe('qr code renderer', () => {
  const qr = createQrCodeRenderer();

  it('renders a PNG buffer', async () => {
    const png = await qr.png(uri);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.length).toBeGreaterThan(100);
  });

  it('renders a PNG data URL of the same image', async () => {
    const dataUrl = await qr.dataUrl(uri);
    expect(dataUrl.startsWith('data:image/png;base64,')).toBe(true);
    const bytes = Buffer.from(dataUrl.slice('data:image/png;base64,'.length), 'base64');
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(bytes.equals(await qr.png(uri))).toBe(true);
  });

  it('draws exactly the image qrcode itself draws with a 4-module margin at a whole scale, in a smaller PNG', async () => {
    for (const text of [uri, `${uri}&extra=${'x'.repeat(120)}`, 'otpauth://totp/a:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ']) {
      const ours = await qr.png(text);
      const { width } = pixels(ours);
      const reference = await QRCode.toBuffer(text, { errorCorrectionLevel: 'M', margin: 4, width, type: 'png' });
      expect(pixels(ours)).toEqual(pixels(reference));
      expect(ours.length).toBeLessThan(reference.length);
    }
  });

  it('keeps small codes about 256 px wide, at a whole number of pixels per module', async () => {
    for (const text of [uri, 'otpauth://totp/a:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ']) {
      const { width, quietPx, modulePx } = geometry(await qr.png(text));
      expect(Number.isInteger(modulePx) && modulePx >= 4).toBe(true);
      expect(quietPx).toBe(4 * modulePx);
      expect(width).toBe((modulesOf(text) + 8) * modulePx);
      expect(Math.abs(width - 256)).toBeLessThanOrEqual(32);
    }
  });

  // Squeezed into 256 px (1 and 2 px per module side by side, and a 2-module margin) symbols
  // did not decode from version 19 on (jsQR); the longest URIs make version 38.
  it('draws the largest symbols the API can ask for at a whole 4 px or more per module, with a 4-module quiet zone', async () => {
    const texts = longestUris();
    for (const text of texts) {
      const modules = modulesOf(text);
      const { width, height, quietPx, modulePx } = geometry(await qr.png(text));
      expect({ integer: Number.isInteger(modulePx), atLeast4: modulePx >= 4 }).toEqual({ integer: true, atLeast4: true });
      expect(quietPx).toBe(4 * modulePx);
      expect([width, height]).toEqual([(modules + 8) * modulePx, (modules + 8) * modulePx]);
    }
    expect(Math.max(...texts.map(modulesOf))).toBe(169); // version 38
  });

  it('decodes (jsQR) to the URI itself, for the largest symbols the API can ask for and a typical one', async () => {
    for (const text of [uri, ...longestUris()]) {
      const image = pngjs.PNG.sync.read(await qr.png(text));
      expect(jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data).toBe(text);
    }
  });

  it('renders different text to a different image', async () => {
    expect((await qr.png(uri)).equals(await qr.png(`${uri}x`))).toBe(false);
  });
});
