/** Building blocks of the JSON Schemas of the engine's own modules, written as OSBuild writes them. */

const CHECKSUM = '(md5|sha1|sha256|sha384|sha512):[0-9a-f]{32,128}';

/** An object of exactly these properties (`additionalProperties: false`), some of them required. */
export const options = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  ...(required.length > 0 ? { required } : {}),
  properties,
});

/** Three reference forms (list of ids, map id → options, list of {id, options}), for a given count. */
export function references(count?: { min: number; max: number }) {
  const bounds = count ? { minItems: count.min, maxItems: count.max } : {};
  const propBounds = count ? { minProperties: count.min, maxProperties: count.max } : {};
  return {
    oneOf: [
      { type: 'array', items: { type: 'string' }, ...bounds },
      { type: 'object', additionalProperties: { type: 'object' }, ...propBounds },
      {
        type: 'array',
        ...bounds,
        items: options({ id: { type: 'string' }, options: { type: 'object' } }, ['id']),
      },
    ],
  };
}

/** An input's `schema_2`: its type, the origins it takes, and its references. */
export const input = (type: string, origins: string[], refs = references()) => ({
  additionalProperties: false,
  required: ['type', 'origin', 'references'],
  properties: {
    type: { enum: [type] },
    origin: { enum: origins },
    references: refs,
    options: { type: 'object' },
  },
});

/** A source's schema: `items` keyed by checksum, each item as `item` says. */
export const source = (item: Record<string, unknown>) => ({
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: { type: 'object', additionalProperties: false, patternProperties: { [CHECKSUM]: item } },
    options: { type: 'object' },
  },
});
