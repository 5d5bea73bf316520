/** Building blocks of the JSON Schemas of the engine's own modules, written as OSBuild writes them. */

/** An object of exactly these properties (`additionalProperties: false`), some of them required. */
export const options = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  ...(required.length > 0 ? { required } : {}),
  properties,
});
