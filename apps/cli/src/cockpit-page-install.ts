/**
 * Installing the Cockpit page: the built page copied beside the destination and renamed into place,
 * so Cockpit never serves half a page, with config.json naming the socket. The destination is
 * replaced only when it is empty or holds a page installed here before: `--dest /etc` must not
 * remove /etc.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

export class CockpitPageError extends Error {
  override readonly name = 'CockpitPageError';
}

/** The file only an installed page has, and what it holds. */
const CONFIG = 'config.json';

export interface CockpitPageInstall {
  /** The built page: manifest.json, index.html, app.js, app.css, assets/. */
  from: string;
  dest: string;
  socket: string;
}

export function installCockpitPage({ from, dest, socket }: CockpitPageInstall): void {
  // The page checks this too; refusing here tells the person installing it.
  if (!isAbsolute(socket) || [...socket].some((c) => c < ' '))
    throw new CockpitPageError(`the socket must be an absolute path: ${JSON.stringify(socket)}`);
  if (!existsSync(join(from, 'manifest.json')) || !existsSync(join(from, 'index.html')))
    throw new CockpitPageError(
      `the page is not built in ${from}: run \`npm run setup\` (it bundles apps/web)`,
    );
  if (existsSync(dest) && !replaceable(dest))
    throw new CockpitPageError(
      `${dest} exists and is not a Debian Forge page installed before; choose another --dest or remove it`,
    );

  mkdirSync(dirname(dest), { recursive: true });
  const fresh = `${dest}.new-${process.pid}`;
  const old = `${dest}.old-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  try {
    cpSync(from, fresh, { recursive: true });
    writeFileSync(join(fresh, CONFIG), `${JSON.stringify({ socket }, null, 2)}\n`);
    readable(fresh);
    const had = existsSync(dest);
    if (had) renameSync(dest, old);
    try {
      renameSync(fresh, dest);
    } catch (err) {
      if (had) renameSync(old, dest);
      throw err;
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}

function replaceable(dest: string): boolean {
  if (!statSync(dest).isDirectory()) return false;
  const entries = readdirSync(dest);
  if (entries.length === 0) return true;
  try {
    const config = JSON.parse(readFileSync(join(dest, CONFIG), 'utf8')) as { socket?: unknown };
    const manifest = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8')) as {
      menu?: { index?: { label?: unknown } };
    };
    return typeof config.socket === 'string' && manifest.menu?.index?.label === 'Debian Forge';
  } catch {
    return false;
  }
}

/** Whoever logs in to Cockpit reads the page, whatever the installer's umask. */
function readable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) readable(path);
    else chmodSync(path, 0o644);
  }
}
