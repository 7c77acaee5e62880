import type { Channel, Item, Period, TextInput } from '../catalog/types.js';

/**
 * What a customer paid for, copied from the catalog when the order is made. A later price or
 * period change in the catalog never changes what an existing order or subscription grants; nor
 * does renaming or removing a channel: `chats` holds the chats themselves (chat id, the key and
 * title they had at checkout), and access is decided by chat id alone.
 *
 * `unresolvedChannels` appears only on rows written before chats were frozen, whose channel keys
 * the catalog could not name at start-up (see resolveChannelKeys): those grant nothing until it can.
 */
export type Terms =
  | { kind: 'plan'; id: string; title: TextInput; price: number; period: Period; periodText: string; chats: Channel[]; unresolvedChannels?: string[] }
  | {
      kind: 'product';
      id: string;
      title: TextInput;
      price: number;
      deliver: { text?: TextInput; link?: string; file?: string; chats: Channel[] };
      unresolvedChannels?: string[];
    };

export function termsOf(item: Item): Terms {
  if (item.kind === 'plan') {
    return { kind: 'plan', id: item.id, title: item.title, price: item.price, period: item.period, periodText: item.periodText, chats: item.chats.map(frozen) };
  }
  const { text, link, file } = item.deliver;
  return { kind: 'product', id: item.id, title: item.title, price: item.price, deliver: { text, link, file, chats: item.deliver.chats.map(frozen) } };
}

/** The chats an order or subscription grants, as frozen in its terms. */
export function chatsOf(terms: Terms): readonly Channel[] {
  return terms.kind === 'plan' ? terms.chats : terms.deliver.chats;
}

const frozen = (c: Channel): Channel => ({ id: c.id, chatId: c.chatId, title: c.title });
