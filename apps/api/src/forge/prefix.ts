/** Where the Forge API's routes live; its own module, since the plugin and its route files all need it. */
export const FORGE_PREFIX = '/api/forge/v1';
