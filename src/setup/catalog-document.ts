import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';

/**
 * catalog.yaml as a YAML Document, edited in place so comments and layout stay; written back
 * only when a value really changed.
 */
export class CatalogDocument {
  private constructor(
    readonly path: string,
    private doc: Document,
    private readonly original: string,
    private changed = false,
  ) {}

  /** Opens `path`, first copying `example` there when it does not exist. `created` says so. */
  static open(path: string, example: string): { catalog: CatalogDocument; created: boolean } {
    const created = !existsSync(path);
    if (created) copyFileSync(example, path);
    const text = readFileSync(path, 'utf8');
    return { catalog: new CatalogDocument(path, parseDocument(text), text), created };
  }

  get(path: readonly (string | number)[]): unknown {
    const node = this.doc.getIn(path, true);
    return isScalar(node) ? node.value : node === undefined ? undefined : (this.doc.getIn(path) as { toJSON?: () => unknown })?.toJSON?.();
  }

  /** Sets a value unless it is already that value (a scalar's comment stays). */
  set(path: readonly (string | number)[], value: unknown): void {
    if (JSON.stringify(this.get(path)) === JSON.stringify(value)) return;
    const node = this.doc.getIn(path, true);
    if (isScalar(node) && (value === null || typeof value !== 'object')) node.value = value;
    else this.doc.setIn(path, value);
    this.changed = true;
  }

  /** Sets the admins list, keeping its flow style `[1, 2]` and its comment. */
  setAdmins(ids: readonly number[]): void {
    if (JSON.stringify(this.get(['settings', 'admins'])) === JSON.stringify(ids)) return;
    const node = this.doc.getIn(['settings', 'admins'], true);
    if (isSeq(node)) {
      node.items = ids.map((id) => this.doc.createNode(id));
      this.changed = true;
    } else this.set(['settings', 'admins'], [...ids]);
  }

  /** Keys of a top-level map (`channels`, `plans`), in file order. */
  keys(section: string): string[] {
    const node = this.doc.get(section, true);
    return isMap(node) ? node.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : [];
  }

  /** Writes the file if anything changed. Returns whether it did. */
  save(): boolean {
    if (!this.changed) return false;
    const text = this.doc.toString();
    this.changed = false;
    if (text === this.original) return false;
    writeFileSync(this.path, text);
    return true;
  }
}
