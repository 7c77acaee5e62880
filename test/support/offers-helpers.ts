import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { formatMoney } from '../../src/catalog/format.js';
import { ManualClock } from '../../src/clock.js';
import type { BotMessage, ScriptedUser } from '../../src/sandbox/telegram/emulator.js';
import { ADMIN_ID, startHarness, TEST_CATALOG, type Harness, type HarnessOptions } from './harness.js';

/*
 * Helpers for the offer tests (products, trials, promo codes, invite-link mode): catalog variants
 * of TEST_CATALOG, a harness on a ManualClock with the cron switched off, customers with a phone,
 * and the card → "I have a promo code" steps.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const ZONE = 'Asia/Almaty';

/** The bytes the `guide` product sends (a tiny PDF). */
export const FIXTURE_PDF = fileURLToPath(new URL('../fixtures/guide.pdf', import.meta.url));

/** The instant Almaty's wall clock shows `local` ("2027-03-10T02:00"); Almaty is UTC+5 all year. */
export const almaty = (local: string): number => Date.parse(`${local}:00+05:00`);

/** "4 900 ₸" with the bot's no-break spaces. */
export const money = (tenge: number): string => formatMoney(tenge);

/** `date` (YYYY-MM-DD) plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

type Yaml = Record<string, Record<string, unknown>>;

/** A catalog YAML text, parsed, changed by `edit`, written back. */
export function editCatalog(yaml: string, edit: (doc: Yaml) => void): string {
  const doc = parse(yaml) as Yaml;
  edit(doc);
  return stringify(doc);
}

/** TEST_CATALOG, parsed, changed by `edit`, written back as YAML. */
export const catalogWith = (edit: (doc: Yaml) => void): string => editCatalog(TEST_CATALOG, edit);

/** TEST_CATALOG with `settings.access_mode: invite_link`. */
export const INVITE_LINK_CATALOG = catalogWith((doc) => {
  doc.settings!.access_mode = 'invite_link';
});

/**
 * TEST_CATALOG plus: a 3-day trial on monthly; products `guide` (text + the fixture PDF) and
 * `alumni` (the chat for life); promo codes around `today` (the catalog zone's date):
 * WELCOME10 (10 % on monthly and bundle), MINUS1000 (1 000 ₸ off anything), SPRING (starts in 5
 * days), OLD (ended yesterday), TODAY (only today), COURSEONLY (course only), ONCE (max_uses 1),
 * FREE100 (100 % on monthly).
 */
export function offersCatalog(today: string): string {
  return catalogWith((doc) => {
    (doc.plans!.monthly as Record<string, unknown>).trial_days = 3;
    doc.products = {
      ...doc.products,
      guide: { title: { ru: 'Гайд', en: 'Guide' }, price: 3000, deliver: { text: { ru: 'Ваш гайд.', en: 'Here is your guide.' }, file: FIXTURE_PDF } },
      alumni: { title: { ru: 'Чат навсегда', en: 'Alumni chat' }, price: 20000, deliver: { channels: ['chat'] } },
    };
    doc.promo_codes = {
      WELCOME10: { percent: 10, items: ['monthly', 'bundle'] },
      MINUS1000: { amount: 1000 },
      SPRING: { percent: 20, valid_from: addDays(today, 5) },
      OLD: { percent: 20, valid_until: addDays(today, -1) },
      TODAY: { percent: 50, valid_from: today, valid_until: today },
      COURSEONLY: { percent: 15, items: ['course'] },
      ONCE: { percent: 50, max_uses: 1 },
      FREE100: { percent: 100, items: ['monthly'] },
    };
  });
}

export interface OffersHarness {
  h: Harness;
  clock: ManualClock;
  /** Waits until every outbox job due by the manual clock is done (admin chat aside: it is paced to 1/s). */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The real app on a ManualClock at `start`; node-cron is stopped so jobs run only by `runNow`. */
export async function startOffers(start: number, options: Omit<HarnessOptions, 'clock'> = {}): Promise<OffersHarness> {
  const clock = new ManualClock(start);
  const h = await startHarness({ ...options, clock });
  await h.app.scheduler.stop().catch(async (error: unknown) => {
    await h.stop();
    throw error;
  });
  const due = h.app.db.prepare("SELECT id, kind, chat_id, state FROM outbox WHERE ((state = 'pending' AND run_after <= ?) OR state = 'running') AND chat_id IS NOT ?");
  const settle = async (timeoutMs = 8000) => {
    const until = Date.now() + timeoutMs;
    h.app.worker.wake();
    for (;;) {
      const left = due.all(clock.now(), ADMIN_ID);
      if (left.length === 0) return;
      if (Date.now() > until) throw new Error(`settle: outbox jobs still due after ${timeoutMs} ms: ${JSON.stringify(left)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await settle().catch(async (error: unknown) => {
    await h.stop();
    throw error;
  });
  return { h, clock, settle, stop: () => h.stop() };
}

/** A customer who wrote /help in English (so the bot may write to them), with a Kazakh mobile number for contacts. */
export async function buyer(h: Harness, userId: number, firstName = `Buyer${userId}`): Promise<ScriptedUser> {
  const user = h.tg.addUser({ id: userId, first_name: firstName, language_code: 'en', phone_number: `+7701${String(userId).padStart(7, '0')}` });
  await user.sendText('/help');
  await user.waitForMessage();
  return user;
}

export const startsWith = (prefix: string) => (m: BotMessage) => m.text?.startsWith(prefix) ?? false;

/** `/start <itemId>` and the card that answers it. */
export async function openCard(user: ScriptedUser, itemId: string): Promise<BotMessage> {
  await user.sendText(`/start ${itemId}`);
  return user.waitForMessage((m) => m.reply_markup !== undefined && user.buttons(m).some((b) => b.startsWith('Buy for')));
}

export const PROMO_PROMPT = 'Type your promo code:';

/** Card → "I have a promo code" → the prompt → types `code`; resolves with the bot's answer to the code. */
export async function enterPromo(user: ScriptedUser, itemId: string, code: string): Promise<BotMessage> {
  const card = await openCard(user, itemId);
  await user.pressButton('I have a promo code', { messageId: card.message_id });
  await user.waitForMessage(startsWith(PROMO_PROMPT));
  await user.sendText(code);
  return user.waitForMessage();
}
