/**
 * QR codes as 1-bit grayscale PNGs, encoded here from qrcode's module matrix. qrcode's own PNG
 * path (pngjs) builds a 256 KB RGBA bitmap, filters it every way and deflates it at level 9 on
 * the thread pool: about 12 ms of CPU and 2 MB of buffers per render, which under concurrent
 * enrollments grew the process by ~100 MB. The same pixels at one bit each take 8 KB and well
 * under a millisecond.
 */
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import type { QrCodeRenderer } from '../../application/ports.js';

// Medium error correction: scans reliably from screens without a dense symbol.
const ERROR_CORRECTION = 'M';
const MARGIN = 2; // modules of quiet zone
const WIDTH = 256; // pixels

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

/**
 * Unfiltered scanlines (a 0 filter byte, then one bit per pixel, 1 = light). The geometry is
 * qrcode's own (renderer/utils.js): a fractional scale fitting the symbol and its margin into
 * WIDTH, pixels mapped to modules by flooring, so the image is the one qrcode would draw.
 */
const scanlines = (modules: { readonly size: number; readonly data: Uint8Array }): { side: number; raw: Buffer } => {
  const { size, data } = modules;
  const scale = WIDTH >= size + MARGIN * 2 ? WIDTH / (size + MARGIN * 2) : 4;
  const side = Math.floor((size + MARGIN * 2) * scale);
  const margin = MARGIN * scale;
  const stride = Math.ceil(side / 8) + 1;
  const raw = Buffer.alloc(stride * side, 0xff); // all light; padding bits are ignored
  const inSymbol = (p: number) => p >= margin && p < side - margin;
  for (let y = 0; y < side; y++) {
    const row = y * stride;
    raw[row] = 0;
    if (!inSymbol(y)) continue;
    const moduleRow = Math.floor((y - margin) / scale) * size;
    for (let x = 0; x < side; x++) {
      if (inSymbol(x) && data[moduleRow + Math.floor((x - margin) / scale)]) raw[row + 1 + (x >> 3)]! &= ~(0x80 >> (x & 7));
    }
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
