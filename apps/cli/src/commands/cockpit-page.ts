/**
 * `forge cockpit-page install`: puts the built Cockpit page (apps/web's dist/cockpit) where
 * cockpit-bridge finds packages, with config.json naming the service's unix socket, which the page
 * reaches through `cockpit.http` as the logged-in user (the socket's mode and group decide).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CockpitPageError, installCockpitPage } from '../cockpit-page-install.ts';
import { type Command, UsageError } from '../command.ts';
import { stateDirOf } from '../compose-request.ts';
import { builtCockpitPage } from '../serve/web-root.ts';

/** Where cockpit-bridge looks for packages: the system's for root, the user's own otherwise. */
function defaultDest(): string {
  if (process.getuid?.() === 0) return '/usr/share/cockpit/debian-forge';
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'cockpit', 'debian-forge');
}

export const cockpitPageCommand: Command = {
  name: 'cockpit-page',
  summary:
    "Install the web UI as a Cockpit page ('Debian Forge' in Cockpit's menu), which reaches the service's unix socket through Cockpit's bridge: no token, the socket's mode and group decide who may use it (forge serve --socket-group). Installing again replaces the page.",
  args: [{ name: 'install', help: 'the only action: copy the page and write its config.json' }],
  flags: {
    dest: {
      type: 'string',
      metavar: 'DIR',
      help: 'where to install (default /usr/share/cockpit/debian-forge as root, else $XDG_DATA_HOME/cockpit/debian-forge); an existing directory is replaced only when it is empty or a page installed before',
    },
    socket: {
      type: 'string',
      metavar: 'PATH',
      help: "the service's unix socket (default STATE-DIR/api.socket, as forge serve)",
    },
    'state-dir': {
      type: 'string',
      metavar: 'DIR',
      help: "forge serve's state directory, for the default socket (default $FORGE_STATE_DIR, else /var/lib/debian-forge as root, else ~/.cache/debian-forge)",
    },
  },
  async run(ctx) {
    const [action, ...extra] = ctx.positionals;
    if (action !== 'install')
      throw new UsageError(action ? `unknown action '${action}'` : 'the action is missing');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const flag = (name: string) =>
      typeof ctx.flags[name] === 'string' ? (ctx.flags[name] as string) : undefined;
    const socket = flag('socket') ?? join(stateDirOf(ctx), 'api.socket');
    const dest = resolve(flag('dest') ?? defaultDest());
    try {
      installCockpitPage({ from: builtCockpitPage(), dest, socket });
    } catch (err) {
      if (err instanceof CockpitPageError) {
        ctx.io.stderr.write(`forge cockpit-page: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    ctx.io.stdout.write(`forge cockpit-page: installed in ${dest}, reaching ${socket}\n`);
    return 0;
  },
};
