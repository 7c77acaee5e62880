import type { Item, Period, TextInput } from '../catalog/types.js';

/**
 * What a customer paid for, copied from the catalog when the order is made. A later price or
 * period change in the catalog never changes what an existing order or subscription grants.
 */
export type Terms =
  | { kind: 'plan'; id: string; title: TextInput; price: number; period: Period; periodText: string; channels: string[] }
  | {
      kind: 'product';
      id: string;
      title: TextInput;
      price: number;
      deliver: { text?: TextInput; link?: string; file?: string; channels: string[] };
    };

export function termsOf(item: Item): Terms {
  return item.kind === 'plan'
    ? { kind: 'plan', id: item.id, title: item.title, price: item.price, period: item.period, periodText: item.periodText, channels: [...item.channels] }
    : { kind: 'product', id: item.id, title: item.title, price: item.price, deliver: { ...item.deliver, channels: [...item.deliver.channels] } };
}
