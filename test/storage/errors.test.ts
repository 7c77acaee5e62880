import { describe, expect, it } from 'vitest';
import { ConstraintViolation, DatabaseBusy, DatabaseUnavailable, StoreError, toStoreError } from '../../src/storage/errors.js';

/** An error shaped like better-sqlite3's SqliteError (a message and a code). */
const sqlite = (code: string) => Object.assign(new Error(`sqlite says ${code}`), { code });

describe('toStoreError', () => {
  it.each(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_NOMEM'])(
    'takes %s for a database that cannot store anything now (the webhook answers 503)',
    (code) => {
      const typed = toStoreError(sqlite(code));
      expect(typed).toBeInstanceOf(DatabaseUnavailable);
      expect(typed).toBeInstanceOf(StoreError);
      expect(typed).toMatchObject({ code, message: `sqlite says ${code}` });
    },
  );

  it('keeps a lock, a constraint and anything else apart from an unavailable database', () => {
    expect(toStoreError(sqlite('SQLITE_BUSY'))).toBeInstanceOf(DatabaseBusy);
    expect(toStoreError(sqlite('SQLITE_CONSTRAINT_CHECK'))).toBeInstanceOf(ConstraintViolation);
    expect(toStoreError(sqlite('SQLITE_FULLNESS'))).not.toBeInstanceOf(DatabaseUnavailable);
    expect(toStoreError(sqlite('SQLITE_ERROR'))).not.toBeInstanceOf(DatabaseUnavailable);
    const plain = new TypeError('a bug');
    expect(toStoreError(plain)).toBe(plain);
  });
});
