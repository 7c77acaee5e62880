import type { Catalog } from './types.js';

/**
 * The one accessor through which the running bot reads the catalog. Everything reads
 * `current()` per update and never keeps a copy, so a hot reload is a single `swap()`.
 */
export class CatalogStore {
  #current: Catalog;
  constructor(initial: Catalog) {
    this.#current = initial;
  }
  current(): Catalog {
    return this.#current;
  }
  swap(next: Catalog): void {
    this.#current = next;
  }
}
