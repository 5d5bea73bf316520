/** Where the Cloud API's routes live; its own module, since the plugin and its route files all need it. */
export const CLOUD_PREFIX = '/api/image-builder-composer/v2';
