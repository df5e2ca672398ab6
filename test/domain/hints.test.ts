import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { maskEmail, maskPhone } from '../../src/domain/shared/hints.js';

describe('maskEmail', () => {
  it('keeps the first character and the domain', () => expect(maskEmail('alice@example.com')).toBe('a***@example.com'));
  it('hides the length of the local part', () => expect(maskEmail('al@example.com')).toBe(maskEmail('alexandra@example.com')));
  it('splits at the last @', () => expect(maskEmail('"a@b"@example.com')).toBe('"***@example.com'));
  it.each(['no-at-sign', '@example.com', ''])('masks %p completely', (bad) => expect(maskEmail(bad)).toBe('***'));
});

describe('maskPhone', () => {
  it('shows the calling code and the last two digits', () => expect(maskPhone('+34612345678')).toBe('+34 *** *** 78'));
  it('ignores formatting', () => expect(maskPhone('+34 612 34 56 78')).toBe('+34 *** *** 78'));
  it.each(['+1234', '', 'not a number'])('masks %p completely', (bad) => expect(maskPhone(bad)).toBe('***'));

  it.each([
    ['+34612345678', '+34 *** *** 78'],
    ['+14155552671', '+1 *** *** 71'],
    ['+447911123456', '+44 *** *** 56'],
    ['+4915112345678', '+49 *** *** 78'],
  ])('names the real calling code of %s', (e164, hint) => expect(maskPhone(e164)).toBe(hint));

  it('never shows more than a calling code (at most 3 digits) and the last two digits', () =>
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{7,14}$/), (digits) => {
        const hint = maskPhone(`+${digits}`);
        if (hint === '***') return;
        const [prefix, ...rest] = hint.split(' ');
        expect(prefix).toMatch(/^\+[0-9]{1,3}$/);
        expect(digits.startsWith(prefix!.slice(1))).toBe(true);
        expect(rest).toEqual(['***', '***', digits.slice(-2)]);
      }),
    ));
});
