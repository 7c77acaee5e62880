import type { Period } from './types.js';

const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Parses a plan period: "30d", "2w", "1m", "12m", "1y". Returns undefined when it does not parse. */
export function parsePeriod(text: string): Period | undefined {
  const match = /^(\d+)(d|w|m|y)$/.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  switch (match[2]) {
    case 'd':
      return { unit: 'days', count: n };
    case 'w':
      return { unit: 'days', count: n * 7 };
    case 'm':
      return { unit: 'months', count: n };
    default:
      return { unit: 'months', count: n * 12 };
  }
}

/** Parses a duration: "30min", "12h", "1d". Returns milliseconds, or undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(min|h|d)$/.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  return n * (match[2] === 'min' ? 60_000 : match[2] === 'h' ? HOUR : DAY);
}
