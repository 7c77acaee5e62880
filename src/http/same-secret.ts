import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether a secret a request presented (a header; undefined when absent) is `expected`, in time
 * that tells an attacker nothing: both are hashed to the same length first, so neither a different
 * length nor the first differing character shows in the timing.
 */
export function sameSecret(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}
