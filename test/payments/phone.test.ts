import { describe, expect, it } from 'vitest';
import { formatPhone, normalizePhone } from '../../src/payments/phone.js';

describe('normalizePhone', () => {
  it.each([
    ['+7 701 123 45 67'],
    ['8 701 123 45 67'],
    ['87011234567'],
    ['77011234567'],
    ['+7(701)123-45-67'],
    ['701 123 45 67'],
    ['  +7 701 123 45 67  '],
  ])('turns the Kazakhstan mobile number %j into 77011234567', (input) => {
    expect(normalizePhone(input)).toEqual({ ok: true, phone: '77011234567' });
  });

  it.each([['+7 916 123 45 67'], ['8 916 123 45 67'], ['916 123 45 67']])('refuses the Russian mobile number %j as russian', (input) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason: 'russian' });
  });

  it.each([['+7 495 123 45 67'], ['+7 812 123 45 67']])('refuses the non-mobile number %j as not_mobile', (input) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason: 'not_mobile' });
  });

  // Product bug: every +7 7xx number is taken as a Kazakhstan mobile, but 71x and 72x are
  // Kazakhstan landline area codes (727 Almaty, 717 Astana). Kaspi cannot invoice a landline, and
  // the customer would only learn it from a failed invoice instead of the not_mobile explanation.
  it.each([['+7 727 123 45 67'], ['+7 717 212 34 56']])('refuses the Kazakhstan landline %j as not_mobile', (input) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason: 'not_mobile' });
  });

  it.each([
    ['short', '+7 701 123'],
    ['letters', 'call me'],
    ['one digit too many', '+7 701 123 45 67 8'],
    ['a US number', '+1 202 555 0100'],
    ['empty', ''],
    ['blank', '   '],
    ['a +8 prefix (8 is only a trunk prefix without +)', '+8 701 123 45 67'],
    ['digits mixed with letters', '+7 701 123 45 6x'],
  ])('refuses %s (%j) as invalid', (_label, input) => {
    expect(normalizePhone(input)).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('formatPhone', () => {
  it('writes an AiPay phone as +7 XXX XXX XX XX', () => {
    expect(formatPhone('77011234567')).toBe('+7 701 123 45 67');
  });

  it('round-trips with normalizePhone', () => {
    const check = normalizePhone(formatPhone('77479876543'));
    expect(check).toEqual({ ok: true, phone: '77479876543' });
  });
});
