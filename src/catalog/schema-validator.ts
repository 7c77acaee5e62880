import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type KeywordDefinition, type ValidateFunction } from 'ajv/dist/2020.js';
import { projectRoot } from '../project-root.js';

let validator: ValidateFunction | undefined;

const text = { type: 'string', minLength: 1 };

/**
 * Keywords of the catalog schema that only editors read: yaml-language-server (VS Code's YAML
 * extension) shows `errorMessage` / `patternErrorMessage` instead of its own message for a type,
 * enum or pattern failure, `markdownDescription` on hover, `enumDescriptions` next to enum values
 * and `defaultSnippets` as completions. For ajv they are annotations that validate nothing, so
 * strict mode still rejects a misspelt keyword; their meta-schemas reject a value editors would
 * not understand, such as an ajv-errors style `errorMessage` object (a string for yaml-language-server).
 */
export const EDITOR_KEYWORDS: KeywordDefinition[] = [
  { keyword: 'errorMessage', metaSchema: text },
  { keyword: 'patternErrorMessage', metaSchema: text },
  { keyword: 'markdownDescription', metaSchema: text },
  { keyword: 'enumDescriptions', metaSchema: { type: 'array', items: text } },
  {
    keyword: 'defaultSnippets',
    metaSchema: {
      type: 'array',
      items: {
        type: 'object',
        required: ['label'],
        additionalProperties: false,
        properties: { label: text, description: text, markdownDescription: text, body: true, bodyText: text },
        oneOf: [
          { required: ['body'], properties: { body: true } },
          { required: ['bodyText'], properties: { bodyText: true } },
        ],
      },
    },
  },
];

/** The compiled catalog schema (schemas/catalog.schema.json + texts.schema.json), compiled once. */
export function catalogValidator(): ValidateFunction {
  if (!validator) {
    const load = (name: string) => JSON.parse(readFileSync(join(projectRoot, 'schemas', name), 'utf8')) as object;
    // allErrors: the creator fixes everything in one pass. No coercion: "4900 тг" is an error to explain.
    // Code optimisation speeds up validating, which runs once per load; off, the schema compiles
    // in about half the time, which is most of the bot's start-up.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, coerceTypes: false, useDefaults: false, code: { optimize: false } });
    ajv.addVocabulary(EDITOR_KEYWORDS);
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
