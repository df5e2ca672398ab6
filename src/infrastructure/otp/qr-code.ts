/**
 * QR codes as 1-bit grayscale PNGs, encoded here from qrcode's module matrix. qrcode's own PNG
 * path (pngjs) builds an RGBA bitmap, filters it every way and deflates it at level 9 on the
 * thread pool: about 12 ms of CPU and 2 MB of buffers per 256 px render, which under concurrent
 * enrollments grew the process by ~100 MB. The same pixels at one bit each take about 9 KB (64 KB
 * for the largest symbol the API's URIs make, 708 px) and well under a millisecond.
 */
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import type { QrCodeRenderer } from '../../application/ports.js';

// Medium error correction: scans reliably from screens without a dense symbol.
const ERROR_CORRECTION = 'M';
// The quiet zone ISO/IEC 18004 asks for; scanners lose the symbol's edge with less.
const QUIET_ZONE = 4; // modules
// Pixels per module, whole so that every module is drawn the same size: a long issuer in
// Cyrillic, CJK or emoji makes a version 20 to 38 symbol, and squeezed into 256 px with a
// fractional scale (modules 1 and 2 px wide side by side) it did not decode from version 19 on.
const MIN_SCALE = 4;
// Small symbols (a short issuer and account make version 7) are drawn about this wide, as before;
// from version 10 on the image grows with the symbol, at MIN_SCALE.
const TARGET_WIDTH = 256; // pixels

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const chunk = (type: string, data: Buffer): Buffer => {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const framed = Buffer.alloc(body.length + 8);
  framed.writeUInt32BE(data.length, 0);
  body.copy(framed, 4);
  framed.writeUInt32BE(crc32(body), body.length + 4);
  return framed;
};

const header = (side: number): Buffer => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale; compression, filter and interlace methods stay 0
  return ihdr;
};

/** The whole scale drawing the symbol and its quiet zone nearest TARGET_WIDTH, at least MIN_SCALE. */
const scaleFor = (size: number): number => Math.max(MIN_SCALE, Math.round(TARGET_WIDTH / (size + QUIET_ZONE * 2)));

/**
 * Unfiltered scanlines (a 0 filter byte, then one bit per pixel, 1 = light). The geometry is
 * qrcode's own (renderer/utils.js) at a whole scale: the image qrcode draws with margin
 * QUIET_ZONE and that scale. Each module row is drawn once and copied to its other pixel rows.
 */
const scanlines = (modules: { readonly size: number; readonly data: Uint8Array }): { side: number; raw: Buffer } => {
  const { size, data } = modules;
  const scale = scaleFor(size);
  const side = (size + QUIET_ZONE * 2) * scale;
  const quiet = QUIET_ZONE * scale;
  const stride = Math.ceil(side / 8) + 1;
  const raw = Buffer.alloc(stride * side, 0xff); // all light; padding bits are ignored
  for (let y = 0; y < side; y++) raw[y * stride] = 0;
  for (let row = 0; row < size; row++) {
    const first = (quiet + row * scale) * stride;
    for (let col = 0; col < size; col++) {
      if (!data[row * size + col]) continue;
      const left = quiet + col * scale;
      for (let x = left; x < left + scale; x++) raw[first + 1 + (x >> 3)]! &= ~(0x80 >> (x & 7));
    }
    for (let copy = 1; copy < scale; copy++) raw.copy(raw, first + copy * stride, first, first + stride);
  }
  return { side, raw };
};

const renderPng = (text: string): Buffer => {
  const { side, raw } = scanlines(QRCode.create(text, { errorCorrectionLevel: ERROR_CORRECTION }).modules);
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header(side)), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
};

export const createQrCodeRenderer = (): QrCodeRenderer => ({
  dataUrl: async (text) => `data:image/png;base64,${renderPng(text).toString('base64')}`,
  png: async (text) => renderPng(text),
});
