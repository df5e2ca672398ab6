import { createQrCodeRenderer } from './qr-code.js';
import { createTotp } from './totp.js';

export const createOtpPrimitives = () => ({ totp: createTotp(), qr: createQrCodeRenderer() });
