import { describe, expect, it } from '@jest/globals';
import { mailboxOf } from '../../src/domain/shared/mailbox.js';

describe('mailboxOf', () => {
  it.each([
    ['ada@example.com', 'ada@example.com'],
    ['ada+otp@example.com', 'ada@example.com'],
    ['ada+a+b@example.com', 'ada@example.com'],
    ['a.d.a@example.com', 'a.d.a@example.com'],
    ['a.d.a+x@gmail.com', 'ada@gmail.com'],
    ['ada@googlemail.com', 'ada@gmail.com'],
    ['+otp@example.com', '+otp@example.com'],
    ['...@gmail.com', '...@gmail.com'],
  ])('counts %s as %s', (address, mailbox) => expect(mailboxOf(address)).toBe(mailbox));
});
