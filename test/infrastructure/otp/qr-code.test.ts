import { describe, expect, it } from '@jest/globals';
import pngjs from 'pngjs';
import QRCode from 'qrcode';
import { createQrCodeRenderer } from '../../../src/infrastructure/otp/qr-code.js';

/** Light (true) or dark per pixel, whatever the PNG's colour type and bit depth. */
const pixels = (png: Buffer): { width: number; height: number; light: boolean[] } => {
  const image = pngjs.PNG.sync.read(png);
  const light: boolean[] = [];
  for (let i = 0; i < image.width * image.height; i++) light.push(image.data[i * 4]! > 127);
  return { width: image.width, height: image.height, light };
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

  it('draws exactly the image qrcode itself draws (same symbol, margin and scale), in a smaller PNG', async () => {
    for (const text of [uri, `${uri}&extra=${'x'.repeat(120)}`, 'otpauth://totp/a:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ']) {
      const ours = await qr.png(text);
      const reference = await QRCode.toBuffer(text, { errorCorrectionLevel: 'M', margin: 2, width: 256, type: 'png' });
      expect(pixels(ours)).toEqual(pixels(reference));
      expect(ours.length).toBeLessThan(reference.length);
    }
  });

  it('renders different text to a different image', async () => {
    expect((await qr.png(uri)).equals(await qr.png(`${uri}x`))).toBe(false);
  });
});
