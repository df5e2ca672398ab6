import QRCode from 'qrcode';
import type { QrCodeRenderer } from '../../application/ports.js';

// Medium error correction: scans reliably from screens without a dense symbol.
const options = { errorCorrectionLevel: 'M', margin: 2, width: 256 } as const;

export const createQrCodeRenderer = (): QrCodeRenderer => ({
  dataUrl: (text) => QRCode.toDataURL(text, { ...options, type: 'image/png' }),
  png: (text) => QRCode.toBuffer(text, { ...options, type: 'png' }),
});
