import type { Document, MessageEntity } from 'grammy/types';
import type { BotMessage } from './emulator-types.js';
import { inlineKeyboardOf } from './reply-markup.js';
import type { StoredMessage } from './world.js';

/** A deep copy of a stored bot message as the public {@link BotMessage}. */
export function toBotMessage(m: StoredMessage): BotMessage {
  const copy = structuredClone(m);
  return {
    message_id: copy.message_id,
    chat_id: copy.chat_id,
    date: copy.date,
    ...(copy.edit_date !== undefined ? { edit_date: copy.edit_date } : {}),
    ...(copy.text !== undefined ? { text: copy.text, entities: (copy.entities ?? []) as MessageEntity[] } : {}),
    ...(copy.caption !== undefined
      ? { caption: copy.caption, caption_entities: (copy.caption_entities ?? []) as MessageEntity[] }
      : {}),
    ...(copy.parse_mode !== undefined ? { parse_mode: copy.parse_mode } : {}),
    ...(copy.source_text !== undefined ? { source_text: copy.source_text } : {}),
    ...(copy.reply_markup !== undefined ? { reply_markup: copy.reply_markup } : {}),
    ...(copy.document !== undefined ? { document: copy.document as unknown as Document } : {}),
    ...(copy.invoice !== undefined ? { invoice: copy.invoice as unknown as NonNullable<BotMessage['invoice']> } : {}),
  };
}

/** Inline button labels of a message, row by row. */
export function buttonLabels(m: BotMessage | undefined): string[] {
  return (inlineKeyboardOf(m?.reply_markup) ?? []).flat().map((b) => b.text);
}

/** A one-line description for error messages: `#3 "Choose a plan" [Monthly | Yearly]`. */
export function describeMessage(m: BotMessage): string {
  const body = m.text ?? (m.invoice ? `<invoice ${m.invoice.title}: ${m.invoice.total_amount} ${m.invoice.currency}>` : undefined) ?? (m.document ? `<document ${m.document.file_name ?? m.document.file_id}> ${m.caption ?? ''}` : '');
  const short = body.length > 80 ? `${body.slice(0, 77)}...` : body;
  const labels = buttonLabels(m);
  return `#${m.message_id} ${JSON.stringify(short)}${labels.length ? ` [${labels.join(' | ')}]` : ''}`;
}
