import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { broadcastRecipients, enqueueBroadcast, entitiesToHtml } from '../../src/admin/broadcast.js';
import { termsOf } from '../../src/payments/terms.js';
import { ADMIN_ID } from '../support/harness.js';
import { addCustomerRow, adminFixture, type AdminFixture } from './fixture.js';

describe('a broadcast keeps the formatting the admin typed', () => {
  it('turns nested entities into Telegram HTML and escapes the text', () => {
    const text = 'Sale <50%> & more: click here';
    const html = entitiesToHtml(text, [
      { type: 'bold', offset: 0, length: 10 },
      { type: 'italic', offset: 5, length: 5 },
      { type: 'text_link', offset: 25, length: 4, url: 'https://example.com/?a=1&b="2"' },
    ]);
    expect(html).toBe('<b>Sale <i>&lt;50%&gt;</i></b> &amp; more: click <a href="https://example.com/?a=1&amp;b=&quot;2&quot;">here</a>');
  });

  it('counts offsets in UTF-16 units, as Telegram does, across emoji', () => {
    expect(entitiesToHtml('🎉 big news', [{ type: 'bold', offset: 3, length: 3 }])).toBe('🎉 <b>big</b> news');
  });

  it('leaves mentions, hashtags and plain URLs as text', () => {
    expect(entitiesToHtml('@bob #tag', [{ type: 'mention', offset: 0, length: 4 }])).toBe('@bob #tag');
  });
});

describe('broadcast recipients and jobs', () => {
  let f: AdminFixture;
  beforeEach(() => {
    f = adminFixture();
    const sub = (userId: number, planId: string, state = 'active') =>
      f.db
        .prepare('INSERT INTO subscriptions (user_id, plan_id, terms, starts_at, ends_at, state, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, 0, 0)')
        .run(userId, planId, JSON.stringify(termsOf(f.catalog.plans.get(planId)!)), f.now + 86_400_000, state);
    for (const id of [1, 2, 3, 4, 5]) addCustomerRow(f.db, id, { blocked: id === 4 });
    sub(1, 'monthly');
    sub(2, 'monthly');
    sub(2, 'bundle');
    sub(3, 'bundle');
    sub(4, 'monthly'); // blocked the bot
    sub(5, 'monthly', 'ended');
  });
  afterEach(() => f.close());

  it('reaches the chosen plan\'s active subscribers, or everyone active once, never those who blocked the bot', () => {
    expect(broadcastRecipients(f.db, 'monthly')).toEqual([1, 2]);
    expect(broadcastRecipients(f.db, 'bundle')).toEqual([2, 3]);
    expect(broadcastRecipients(f.db, null)).toEqual([1, 2, 3]);
  });

  it('enqueues one message per recipient once, however often Confirm is pressed, and audits it', () => {
    const o = { id: 'abc123', planId: null, html: '<b>Hi</b>', adminId: ADMIN_ID, now: f.now };
    expect(enqueueBroadcast(f, o)).toBe(3);
    expect(enqueueBroadcast(f, o)).toBe(0);
    const jobs = f.db.prepare("SELECT chat_id, dedupe_key FROM outbox WHERE kind = 'message' ORDER BY id").all();
    expect(jobs).toEqual([
      { chat_id: 1, dedupe_key: 'broadcast:abc123:1' },
      { chat_id: 2, dedupe_key: 'broadcast:abc123:2' },
      { chat_id: 3, dedupe_key: 'broadcast:abc123:3' },
    ]);
    const audit = f.db.prepare("SELECT actor, detail FROM audit WHERE action = 'broadcast'").all() as Array<{ actor: number; detail: string }>;
    expect(audit).toHaveLength(2);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ broadcastId: 'abc123', recipients: 3, enqueued: 3 });
  });
});
