/** Blueprints as TOML files, as `composer-cli blueprints save` and `push` exchange them. */
import { type Client, segments, WELDR } from './client.ts';

/** The blueprint (its workspace copy when it has one) as TOML, to be saved as `<name>.toml`. */
export const blueprintToml = (api: Client, name: string): Promise<Blob> =>
  api.transport.download(`${WELDR}/blueprints/info/${segments(name)}?format=toml`);

/** Stores a blueprint given as TOML text; the service's parse or validation error is thrown. */
export async function importToml(api: Client, toml: string): Promise<void> {
  await api.send('POST', `${WELDR}/blueprints/new`, toml, 'text/x-toml');
}
