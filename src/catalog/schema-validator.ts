import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { projectRoot } from '../project-root.js';

let validator: ValidateFunction | undefined;

/** The compiled catalog schema (schemas/catalog.schema.json + texts.schema.json), compiled once. */
export function catalogValidator(): ValidateFunction {
  if (!validator) {
    const load = (name: string) => JSON.parse(readFileSync(join(projectRoot, 'schemas', name), 'utf8')) as object;
    // allErrors: the creator fixes everything in one pass. No coercion: "4900 тг" is an error to explain.
    // Code optimisation speeds up validating, which runs once per load; off, the schema compiles
    // in about half the time, which is most of the bot's start-up.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, coerceTypes: false, useDefaults: false, code: { optimize: false } });
    ajv.addSchema(load('texts.schema.json'));
    validator = ajv.compile(load('catalog.schema.json'));
  }
  return validator;
}

export type SchemaError = ErrorObject;

/**
 * Lets the compiled schema (and ajv's compiler state) be garbage-collected: the running bot needs
 * it only at start-up and on the rare catalog reload, which compiles it again (about 0.2 s).
 */
export function releaseCatalogValidator(): void {
  validator = undefined;
}
