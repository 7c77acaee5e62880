/** One choice of {@link Prompter.select}. */
export interface Choice<T extends string> {
  value: T;
  label: string;
  hint?: string;
}

/**
 * What the set-up wizard needs from a terminal. Every question has a stable `id`, so tests answer
 * by id (an unscripted question takes its default, as pressing Enter does). Throws
 * {@link SetupCancelled} when the person presses Ctrl+C.
 */
export interface Prompter {
  /** A line of information: `step` starts a section, `ok`/`warn`/`error` are marked as such. */
  say(text: string, kind?: 'info' | 'step' | 'ok' | 'warn' | 'error'): void;
  /** A line of text; Enter alone gives `initial` (default: ''). `validate` returns why an answer is refused. */
  text(q: { id: string; message: string; initial?: string; placeholder?: string; validate?: (value: string) => string | undefined }): Promise<string>;
  /** A secret, not echoed; Enter alone gives '' (the wizard then keeps the current value). */
  password(q: { id: string; message: string; validate?: (value: string) => string | undefined }): Promise<string>;
  confirm(q: { id: string; message: string; initial: boolean }): Promise<boolean>;
  select<T extends string>(q: { id: string; message: string; options: readonly Choice<T>[]; initial?: T }): Promise<T>;
}

/** The person left the wizard (Ctrl+C): what was saved so far stays saved. */
export class SetupCancelled extends Error {
  override name = 'SetupCancelled';
}
