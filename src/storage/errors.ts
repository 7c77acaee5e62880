/** Typed database errors, so callers decide by type, not by parsing messages. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A UNIQUE or PRIMARY KEY constraint refused a write. */
export class UniqueViolation extends StoreError {
  override name = 'UniqueViolation';
}

/** A FOREIGN KEY, CHECK or NOT NULL constraint refused a write. */
export class ConstraintViolation extends StoreError {
  override name = 'ConstraintViolation';
}

/** Another connection holds the lock longer than the busy timeout; nothing was written. */
export class DatabaseBusy extends StoreError {
  override name = 'DatabaseBusy';
}

/**
 * The database cannot store anything right now: the disk is full, an I/O error, the file became
 * read-only or unreachable. Nothing was written; retrying later can succeed once the operator
 * fixed the cause, so the webhook answers 503 and /healthz reports the database unavailable.
 */
export class DatabaseUnavailable extends StoreError {
  override name = 'DatabaseUnavailable';
}

/** Result codes (primary, extended ones included) that mean the storage itself failed, not the data. */
const UNAVAILABLE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|NOMEM|NOLFS|PROTOCOL|CORRUPT|NOTADB)(_|$)/;

/** Wraps better-sqlite3's SqliteError in the matching typed error; other errors pass through. */
export function toStoreError(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const message = (error as Error).message;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return new UniqueViolation(message, code, { cause: error });
  if (code.startsWith('SQLITE_CONSTRAINT')) return new ConstraintViolation(message, code, { cause: error });
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') return new DatabaseBusy(message, code, { cause: error });
  if (UNAVAILABLE.test(code)) return new DatabaseUnavailable(message, code, { cause: error });
  return new StoreError(message, code, { cause: error });
}

/** Runs `fn`, rethrowing SQLite errors as typed ones. */
export function typed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toStoreError(error);
  }
}
