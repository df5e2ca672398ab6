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
    ['ada+x@me.com', 'ada@icloud.com'],
    ['ada@mac.com', 'ada@icloud.com'],
    ['a.da@icloud.com', 'a.da@icloud.com'],
    ['ada+otp@pm.me', 'ada@protonmail.com'],
    ['ada@proton.me', 'ada@protonmail.com'],
    ['ada@protonmail.ch', 'ada@protonmail.com'],
    ['anything+x@ada.fastmail.com', 'ada@fastmail.com'],
    ['ada+x@fastmail.com', 'ada@fastmail.com'],
    ['ada@fastmail.com.example', 'ada@fastmail.com.example'],
    ['ada@a.b.fastmail.com', 'ada@a.b.fastmail.com'],
    ['ada@notgmail.com', 'ada@notgmail.com'],
  ])('counts %s as %s', (address, mailbox) => expect(mailboxOf(address)).toBe(mailbox));
});
