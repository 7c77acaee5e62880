import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { customerCard, findCustomers } from '../../src/admin/lookup.js';
import { addCustomerRow, adminFixture, type AdminFixture } from './fixture.js';

let f: AdminFixture;
beforeEach(() => {
  f = adminFixture();
  addCustomerRow(f.db, 11, { firstName: 'Aruzhan', username: 'Aru_Z', phone: '77011234567' });
  addCustomerRow(f.db, 12, { firstName: 'Bolat' });
  addCustomerRow(f.db, 7011234567, { firstName: 'Digits' }); // an id that also reads as a phone
  f.db
    .prepare(
      `INSERT INTO orders (external_id, user_id, item_kind, item_id, terms, list_price, amount, phone, language, state, created_at, updated_at)
       VALUES ('sb_1', 12, 'plan', 'monthly', '{"title":"Monthly"}', 4900, 4900, '77017654321', 'en', 'invoiced', 0, 0)`,
    )
    .run();
});
afterEach(() => f.close());

describe('finding a customer', () => {
  it('finds by id, by @username in any case, and by phone in any common form', () => {
    expect(findCustomers(f.db, '12').userIds).toEqual([12]);
    expect(findCustomers(f.db, '@aru_z').userIds).toEqual([11]);
    expect(findCustomers(f.db, 'ARU_Z').userIds).toEqual([11]);
    for (const phone of ['+7 701 123 45 67', '8 701 123 45 67', '87011234567', '+7 (701) 123-45-67']) {
      expect(findCustomers(f.db, phone).userIds).toEqual([11]);
    }
  });

  it('finds by a phone used only on an order', () => {
    expect(findCustomers(f.db, '+7 701 765 43 21').userIds).toEqual([12]);
  });

  it('matches both readings of digits that are an id and a phone', () => {
    expect(findCustomers(f.db, '7011234567').userIds).toEqual([7011234567, 11]);
  });

  it('says when the query is neither an id, a username nor a phone', () => {
    expect(findCustomers(f.db, 'who?').by).toBe('invalid');
  });

  it('shows the phone masked, never whole', () => {
    const card = customerCard(f.db, f.catalog, 11);
    expect(card).toContain('+7 701 *** 45 67');
    expect(card).not.toContain('1234567');
  });
});
