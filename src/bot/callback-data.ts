/**
 * Callback data of every inline button. Versioned (v1) and stateless: a button from before a
 * restart or a catalog edit still decodes, and handlers re-check the item against the current catalog.
 */
export type Callback =
  | { type: 'menu' }
  | { type: 'item'; id: string }
  | { type: 'buy'; id: string }
  | { type: 'buy_stars'; id: string }
  | { type: 'trial'; id: string }
  | { type: 'promo'; id: string }
  | { type: 'language'; lang: string; then?: string }
  | { type: 'cancel_order'; orderId: number }
  | { type: 'paid'; orderId: number }
  | { type: 'renew'; id: string }
  | { type: 'again'; orderId: number }
  | { type: 'get_again'; purchaseId: number }
  | { type: 'relink'; subscriptionId: number }
  | { type: 'renewal_toggle'; id: string; on: boolean }
  | { type: 'checkout'; action: 'yes' | 'other' | 'cancel' }
  | { type: 'admin_confirm'; orderId: number }
  | { type: 'admin_reject'; orderId: number };

const CODES = {
  menu: 'm',
  item: 'i',
  buy: 'b',
  buy_stars: 'bs',
  trial: 't',
  promo: 'p',
  language: 'l',
  cancel_order: 'c',
  paid: 'pd',
  renew: 'r',
  again: 'a',
  get_again: 'g',
  relink: 'rl',
  renewal_toggle: 'rt',
  checkout: 'k',
  admin_confirm: 'ac',
  admin_reject: 'ar',
} as const;

export function encodeCallback(c: Callback): string {
  const code = CODES[c.type];
  switch (c.type) {
    case 'menu':
      return `v1:${code}`;
    case 'language':
      return `v1:${code}:${c.lang}${c.then ? `:${c.then}` : ''}`;
    case 'cancel_order':
    case 'paid':
    case 'again':
    case 'admin_confirm':
    case 'admin_reject':
      return `v1:${code}:${c.orderId}`;
    case 'get_again':
      return `v1:${code}:${c.purchaseId}`;
    case 'relink':
      return `v1:${code}:${c.subscriptionId}`;
    case 'renewal_toggle':
      return `v1:${code}:${c.on ? 1 : 0}:${c.id}`;
    case 'checkout':
      return `v1:${code}:${c.action}`;
    default:
      return `v1:${code}:${c.id}`;
  }
}

/** Decodes callback data; undefined for anything this version did not make. */
export function decodeCallback(data: string): Callback | undefined {
  const [version, code, a, b] = data.split(':');
  if (version !== 'v1' || code === undefined) return undefined;
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  switch (code) {
    case 'm':
      return { type: 'menu' };
    case 'i':
    case 'b':
    case 't':
    case 'p':
    case 'r':
    case 'bs': {
      if (!a) return undefined;
      const type = ({ i: 'item', b: 'buy', t: 'trial', p: 'promo', r: 'renew', bs: 'buy_stars' } as const)[code];
      return { type, id: a };
    }
    case 'l':
      return a ? { type: 'language', lang: a, then: b } : undefined;
    case 'c':
    case 'pd':
    case 'a':
    case 'ac':
    case 'ar': {
      const orderId = num(a);
      if (orderId === undefined) return undefined;
      return { type: ({ c: 'cancel_order', pd: 'paid', a: 'again', ac: 'admin_confirm', ar: 'admin_reject' } as const)[code], orderId };
    }
    case 'rl': {
      const subscriptionId = num(a);
      return subscriptionId === undefined ? undefined : { type: 'relink', subscriptionId };
    }
    case 'g': {
      const purchaseId = num(a);
      return purchaseId === undefined ? undefined : { type: 'get_again', purchaseId };
    }
    case 'k':
      return a === 'yes' || a === 'other' || a === 'cancel' ? { type: 'checkout', action: a } : undefined;
    case 'rt':
      return b && (a === '0' || a === '1') ? { type: 'renewal_toggle', id: b, on: a === '1' } : undefined;
    default:
      return undefined;
  }
}
