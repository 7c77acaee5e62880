/** A message entity as the Bot API returns it (offsets and lengths in UTF-16 code units). */
export interface TextEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
  user?: unknown;
}

/** Plain text plus the entities that format it. */
export interface FormattedText {
  text: string;
  entities: TextEntity[];
}

/** Telegram's prefix for every formatting error. */
export const PARSE_ERROR_PREFIX = "can't parse entities: ";

/** The UTF-8 byte offset of `index` (a UTF-16 index into `text`), as Telegram reports positions. */
export function byteOffset(text: string, index: number): number {
  return Buffer.byteLength(text.slice(0, index), 'utf8');
}

/** Sorts entities the way Telegram returns them: by offset, then longer (outer) first. */
export function sortEntities(entities: TextEntity[]): TextEntity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/**
 * Strips leading and trailing whitespace as Telegram does before sending, moving and clipping the
 * entities to match.
 */
export function trimFormattedText({ text, entities }: FormattedText): FormattedText {
  const start = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const end = start + trimmed.length;
  const moved: TextEntity[] = [];
  for (const e of entities) {
    const from = Math.max(e.offset, start);
    const to = Math.min(e.offset + e.length, end);
    if (to > from) moved.push({ ...e, offset: from - start, length: to - from });
  }
  return { text: trimmed, entities: moved };
}
