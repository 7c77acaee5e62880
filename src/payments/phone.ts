export type PhoneCheck =
  | { ok: true; phone: string }
  | { ok: false; reason: 'invalid' | 'russian' | 'not_mobile' };

/**
 * Normalises a typed Kaspi phone number to AiPay's form, 11 digits starting with 7:
 * "+7 701 123 45 67", "8 701 123 45 67", "87011234567", "701 123 45 67" → "77011234567".
 * Only Kazakhstan mobile numbers (+7 7xx) pass; +7 9xx is Russian and refused.
 */
export function normalizePhone(input: string): PhoneCheck {
  const trimmed = input.trim();
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return { ok: false, reason: 'invalid' };
  let digits = trimmed.replace(/\D/g, '');
  if (digits.length === 10) digits = '7' + digits;
  else if (digits.length === 11 && digits.startsWith('8') && !trimmed.startsWith('+')) digits = '7' + digits.slice(1);
  if (digits.length !== 11 || !digits.startsWith('7')) return { ok: false, reason: 'invalid' };
  if (digits[1] === '9') return { ok: false, reason: 'russian' };
  // +7 7xx is Kazakhstan; 71x–73x there are landline area codes (727 Almaty, 717 Astana).
  if (digits[1] !== '7' || /^7[123]/.test(digits.slice(1))) return { ok: false, reason: 'not_mobile' };
  return { ok: true, phone: digits };
}

/** "77011234567" → "+7 701 123 45 67". */
export function formatPhone(phone: string): string {
  return `+7 ${phone.slice(1, 4)} ${phone.slice(4, 7)} ${phone.slice(7, 9)} ${phone.slice(9, 11)}`;
}
