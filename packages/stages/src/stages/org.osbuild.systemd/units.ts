/**
 * What `systemctl enable` reads, without systemd: unit names (prefix, instance, type), the
 * [Install] section of a unit file, and the specifiers allowed in it.
 */
import { StageError } from '../../shared/errors.ts';

const UNIT_TYPES = [
  'service',
  'socket',
  'target',
  'device',
  'mount',
  'automount',
  'swap',
  'timer',
  'path',
  'slice',
  'scope',
];
const UNIT_NAME = new RegExp(
  `^([A-Za-z0-9:_.\\\\-]+?)(?:@([A-Za-z0-9:_.\\\\-]*))?\\.(${UNIT_TYPES.join('|')})$`,
);

export interface UnitName {
  /** The part before `@` (or before the suffix). */
  prefix: string;
  /** `undefined` for a plain unit, `''` for a template, the instance otherwise. */
  instance?: string;
  /** The unit type: service, socket, target… */
  type: string;
}

export function parseUnitName(name: string): UnitName | undefined {
  if (name.length > 255) return undefined;
  const m = UNIT_NAME.exec(name);
  if (!m) return undefined;
  return { prefix: m[1] as string, instance: m[2], type: m[3] as string };
}

export function unitName(name: string): UnitName {
  const parsed = parseUnitName(name);
  if (!parsed) throw new StageError(`'${name}' is not a valid unit name`);
  return parsed;
}

export function formatUnitName(u: UnitName): string {
  return u.instance === undefined ? `${u.prefix}.${u.type}` : `${u.prefix}@${u.instance}.${u.type}`;
}

export function isTemplate(name: string): boolean {
  return parseUnitName(name)?.instance === '';
}

/** `foo@.service` for `foo@bar.service`, undefined for a unit that is no instance. */
export function templateOf(name: string): string | undefined {
  const u = parseUnitName(name);
  return u?.instance ? formatUnitName({ ...u, instance: '' }) : undefined;
}

/** The template `name` with `instance` filled in; other names as they are. */
export function withInstance(name: string, instance: string): string {
  const u = unitName(name);
  return u.instance === '' ? formatUnitName({ ...u, instance }) : name;
}

export interface InstallInfo {
  wantedBy: string[];
  requiredBy: string[];
  upheldBy: string[];
  alias: string[];
  also: string[];
  defaultInstance?: string;
}

function words(value: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** The [Install] section of a unit file's text. */
export function parseInstall(text: string): InstallInfo {
  const info: InstallInfo = { wantedBy: [], requiredBy: [], upheldBy: [], alias: [], also: [] };
  const lists: Record<string, keyof Omit<InstallInfo, 'defaultInstance'>> = {
    WantedBy: 'wantedBy',
    RequiredBy: 'requiredBy',
    UpheldBy: 'upheldBy',
    Alias: 'alias',
    Also: 'also',
  };
  let section = '';
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let line = (raw[i] as string).trim();
    while (line.endsWith('\\') && i + 1 < raw.length)
      line = `${line.slice(0, -1)} ${(raw[++i] as string).trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      continue;
    }
    if (section !== 'Install') continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'DefaultInstance') {
      info.defaultInstance = value === '' ? undefined : value;
      continue;
    }
    const list = lists[key];
    if (!list) continue;
    if (value === '') info[list] = [];
    else info[list].push(...words(value));
  }
  return info;
}

/** systemd's unit name unescaping: `-` is `/`, `\xNN` a byte. */
function unescapeName(s: string): string {
  return s
    .replace(/-/g, '/')
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * The specifiers systemd expands in [Install] values that depend on the unit name alone; those
 * about the running host or user (%H, %m, %u…) are refused, as there is no host to ask.
 */
export function expandSpecifiers(value: string, name: string): string {
  const u = unitName(name);
  const instance = u.instance ?? '';
  const prefix = u.prefix;
  const last = prefix.includes('-') ? prefix.slice(prefix.lastIndexOf('-') + 1) : prefix;
  return value.replace(/%(.)/g, (all, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'n':
        return name;
      case 'N':
        return name.slice(0, -(u.type.length + 1));
      case 'p':
        return prefix;
      case 'P':
        return unescapeName(prefix);
      case 'i':
        return instance;
      case 'I':
        return unescapeName(instance);
      case 'j':
        return last;
      case 'J':
        return unescapeName(last);
      case 'f':
        return `/${unescapeName(instance || prefix).replace(/^\/+/, '')}`;
      default:
        throw new StageError(`unsupported specifier ${all} in the [Install] section of ${name}`);
    }
  });
}
