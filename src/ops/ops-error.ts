/**
 * Something the operator can fix, said in one sentence (what is wrong — what to do). The command
 * line tools print its message alone, never a stack trace. `code` lets callers tell cases apart
 * without parsing the message.
 */
export class OpsError extends Error {
  override name = 'OpsError';
  constructor(
    message: string,
    readonly code: 'DAMAGED' | 'IN_USE' | 'OTHER' = 'OTHER',
  ) {
    super(message);
  }
}
