import type { default as AjvClass } from 'ajv';
import formats from 'ajv-formats';
import { CONTRACT_FORMATS } from '../domain/formats.js';

/**
 * The request validator's formats (named formatsPlugin so that Fastify's Ajv compiler does not add ajv-formats again
 * over them): ajv-formats, with `email`, `date` and `date-time` checked by the same rules the domain applies, so a
 * value the contract's format admits is one the server stores.
 */
type Ajv = InstanceType<typeof AjvClass.default>;
// ajv-formats is CommonJS: under Node's ESM the plugin is the default export's `default`.
const addFormats = formats.default;

export function formatsPlugin(ajv: Ajv): Ajv {
  addFormats(ajv);
  for (const [name, validate] of Object.entries(CONTRACT_FORMATS)) ajv.addFormat(name, { type: 'string', validate });
  return ajv;
}
