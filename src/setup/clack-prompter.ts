import * as clack from '@clack/prompts';
import { SetupCancelled, type Prompter } from './prompter.js';

function answered<T>(value: T): Exclude<T, symbol> {
  if (clack.isCancel(value)) throw new SetupCancelled('cancelled');
  return value as Exclude<T, symbol>;
}

/** {@link Prompter} on the terminal, through @clack/prompts. */
export function clackPrompter(): Prompter {
  return {
    say(text, kind = 'info') {
      if (kind === 'step') clack.log.step(text);
      else if (kind === 'ok') clack.log.success(text);
      else if (kind === 'warn') clack.log.warn(text);
      else if (kind === 'error') clack.log.error(text);
      else clack.log.message(text);
    },
    async text(q) {
      const value = answered(
        await clack.text({
          message: q.message,
          initialValue: q.initial,
          placeholder: q.placeholder,
          validate: q.validate && ((v) => q.validate!(v ?? '')),
        }),
      );
      return value ?? '';
    },
    async password(q) {
      return answered(await clack.password({ message: q.message, validate: q.validate && ((v) => (v ? q.validate!(v) : undefined)) })) ?? '';
    },
    async confirm(q) {
      return answered(await clack.confirm({ message: q.message, initialValue: q.initial }));
    },
    async select(q) {
      const options = q.options.map((o) => ({ value: o.value, label: o.label, ...(o.hint ? { hint: o.hint } : {}) }));
      return answered(await clack.select({ message: q.message, options: options as never, initialValue: q.initial })) as never;
    },
  };
}
