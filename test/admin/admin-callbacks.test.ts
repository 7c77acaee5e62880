import { describe, expect, it } from 'vitest';
import { decodeAdminCallback, encodeAdminCallback, type AdminCallback } from '../../src/admin/admin-commands.js';
import { decodeCallback } from '../../src/bot/callback-data.js';
import { CALLBACK_DATA_LIMIT, longestCallbackData } from '../../src/catalog/callback-data-size.js';

describe('admin button data', () => {
  const all: AdminCallback[] = [
    { type: 'broadcast_plan', planId: 'monthly' },
    { type: 'broadcast_plan', planId: null },
    { type: 'broadcast_confirm', id: 'a1b2c3d4e5f6' },
    { type: 'broadcast_cancel', id: 'a1b2c3d4e5f6' },
    { type: 'forget_confirm', userId: 9_007_199_254_740_991 },
    { type: 'forget_cancel' },
    { type: 'cancel' },
  ];

  it('decodes what it encodes, and the customers\' decoder ignores it', () => {
    for (const c of all) {
      const data = encodeAdminCallback(c);
      expect(decodeAdminCallback(data)).toEqual(c);
      expect(decodeCallback(data)).toBeUndefined();
    }
  });

  it('fits 64 bytes for the longest plan id the catalog allows', () => {
    const longestId = 'x'.repeat(CALLBACK_DATA_LIMIT - longestCallbackData(''));
    expect(Buffer.byteLength(encodeAdminCallback({ type: 'broadcast_plan', planId: longestId }))).toBeLessThanOrEqual(CALLBACK_DATA_LIMIT);
    for (const c of all) expect(Buffer.byteLength(encodeAdminCallback(c))).toBeLessThanOrEqual(CALLBACK_DATA_LIMIT);
  });

  it('ignores customers\' buttons and garbage', () => {
    expect(decodeAdminCallback('v1:m')).toBeUndefined();
    expect(decodeAdminCallback('adm:fg:abc')).toBeUndefined();
    expect(decodeAdminCallback('adm:zz:1')).toBeUndefined();
  });
});
