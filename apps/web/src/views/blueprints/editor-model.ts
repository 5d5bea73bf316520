/**
 * The blueprint editor's form: what the inputs hold (text, as typed), the blueprint document made
 * from it, and where each problem goes. Problems come from the API's own schema run here
 * (`checkBlueprint`) and from the API's answer on save; both name a JSON path
 * (`customizations.user[0].name`), which is also the key of the field that edits that value.
 *
 * The editor shows part of a blueprint; whatever else a stored one holds (files, repositories, a
 * user's expiry date…) is kept from the loaded document, so saving never drops it.
 */
import type { Blueprint } from '@debian-forge/blueprint/schema';

export interface PackageRow {
  name: string;
  version: string;
}

export interface UserRow {
  name: string;
  description: string;
  /** A new password typed here (the API hashes it); empty keeps `storedPassword`. */
  password: string;
  /** The hash the stored blueprint has, kept unless a new password is typed or it is removed. */
  storedPassword: string;
  key: string;
  groups: string;
  home: string;
  shell: string;
  uid: string;
  gid: string;
  /** The keys of the loaded user this form does not edit. */
  rest: Record<string, unknown>;
}

export interface GroupRow {
  name: string;
  gid: string;
}

export interface FilesystemRow {
  mountpoint: string;
  minsize: string;
}

export interface EditorForm {
  name: string;
  description: string;
  version: string;
  distro: string;
  packages: PackageRow[];
  modules: PackageRow[];
  /** Package groups, a list. */
  groups: string;
  hostname: string;
  users: UserRow[];
  userGroups: GroupRow[];
  servicesEnabled: string;
  servicesDisabled: string;
  firewallPorts: string;
  firewallEnabled: string;
  firewallDisabled: string;
  timezone: string;
  ntpServers: string;
  languages: string;
  keyboard: string;
  kernelAppend: string;
  filesystems: FilesystemRow[];
}

/** A problem at a JSON path; `[]` is the blueprint as a whole. */
export interface Issue {
  path: (string | number)[];
  message: string;
}

/** The key of a field: its JSON path with dots (`customizations.user.0.name`). */
export const keyOf = (path: readonly (string | number)[]): string => path.join('.');

/** An element id for a field's key. */
export const fieldId = (key: string): string => `bp-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Json => (isObject(v) ? v : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);

/** Lists are typed as words separated by commas or white space; none of their items holds either. */
export const splitList = (text: string): string[] => text.split(/[\s,]+/).filter((s) => s !== '');
const joinList = (items: string[]): string => items.join(', ');

export const emptyUser = (): UserRow => ({
  name: '',
  description: '',
  password: '',
  storedPassword: '',
  key: '',
  groups: '',
  home: '',
  shell: '',
  uid: '',
  gid: '',
  rest: {},
});

export function emptyForm(): EditorForm {
  return {
    name: '',
    description: '',
    version: '0.0.1',
    distro: '',
    packages: [],
    modules: [],
    groups: '',
    hostname: '',
    users: [],
    userGroups: [],
    servicesEnabled: '',
    servicesDisabled: '',
    firewallPorts: '',
    firewallEnabled: '',
    firewallDisabled: '',
    timezone: '',
    ntpServers: '',
    languages: '',
    keyboard: '',
    kernelAppend: '',
    filesystems: [],
  };
}

const UNITS: [number, string][] = [
  [1024 ** 4, 'TiB'],
  [1024 ** 3, 'GiB'],
  [1024 ** 2, 'MiB'],
];

/** A stored size (bytes) as a person would type it: "2 GiB" where it divides evenly. */
function sizeText(v: unknown): string {
  if (typeof v !== 'number') return str(v);
  const unit = UNITS.find(([n]) => v > 0 && v % n === 0);
  return unit ? `${v / unit[0]} ${unit[1]}` : String(v);
}

const rows = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

/** The form for a stored blueprint (as `blueprints/info` answers). */
export function formOf(bp: Blueprint): EditorForm {
  const c = obj(bp.customizations);
  const packageRows = (list: unknown) =>
    rows(list).map((p) => ({ name: str(p.name), version: str(p.version) }));
  return {
    name: bp.name,
    description: str(bp.description),
    version: str(bp.version),
    distro: str(bp.distro),
    packages: packageRows(bp.packages),
    modules: packageRows(bp.modules),
    groups: joinList(rows(bp.groups).map((g) => str(g.name))),
    hostname: str(c.hostname),
    users: rows(c.user).map((u) => {
      const { name, description, password, key, groups, home, shell, uid, gid, ...rest } = u;
      return {
        name: str(name),
        description: str(description),
        password: '',
        storedPassword: str(password),
        key: str(key),
        groups: joinList(strings(groups)),
        home: str(home),
        shell: str(shell),
        uid: str(uid),
        gid: str(gid),
        rest,
      };
    }),
    userGroups: rows(c.group).map((g) => ({ name: str(g.name), gid: str(g.gid) })),
    servicesEnabled: joinList(strings(obj(c.services).enabled)),
    servicesDisabled: joinList(strings(obj(c.services).disabled)),
    firewallPorts: joinList(strings(obj(c.firewall).ports)),
    firewallEnabled: joinList(strings(obj(obj(c.firewall).services).enabled)),
    firewallDisabled: joinList(strings(obj(obj(c.firewall).services).disabled)),
    timezone: str(obj(c.timezone).timezone),
    ntpServers: joinList(strings(obj(c.timezone).ntpservers)),
    languages: joinList(strings(obj(c.locale).languages)),
    keyboard: str(obj(c.locale).keyboard),
    kernelAppend: str(obj(c.kernel).append),
    filesystems: rows(c.filesystem).map((f) => ({
      mountpoint: str(f.mountpoint),
      minsize: sizeText(f.minsize),
    })),
  };
}

/** The object without its undefined values; undefined when nothing is left. */
function compact(o: Json): Json | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return Object.keys(out).length === 0 ? undefined : out;
}

const text = (s: string): string | undefined => (s.trim() === '' ? undefined : s.trim());
const list = (s: string): string[] | undefined => {
  const items = splitList(s);
  return items.length === 0 ? undefined : items;
};
/**
 * A whole number typed: the number, or the text as typed for the schema to refuse by its own
 * words ("expected a number, got a string").
 */
const integer = (s: string): number | string | undefined => {
  const t = s.trim();
  if (t === '') return undefined;
  return /^-?\d+$/.test(t) ? Number(t) : t;
};
/** A size typed: a number of bytes, or the text ("2 GiB") the schema reads. */
const size = (s: string): number | string => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());

const packageSpecs = (list: PackageRow[]) =>
  list.map((p) => (p.version.trim() === '' ? { name: p.name } : { name: p.name, version: p.version.trim() }));

/**
 * The blueprint document to validate and save: the loaded one (`base`), with what the form edits
 * put in its place. Its paths are the fields' keys: row `i` of a list is element `i`.
 */
export function documentOf(form: EditorForm, base: Json = {}): Json {
  const c = obj(base.customizations);
  const firewall = obj(c.firewall);
  const customizations = compact({
    ...c,
    hostname: text(form.hostname),
    kernel: compact({ ...obj(c.kernel), append: text(form.kernelAppend) }),
    user:
      form.users.length === 0
        ? undefined
        : form.users.map((u) =>
            compact({
              ...u.rest,
              name: u.name.trim(),
              description: text(u.description),
              password: u.password !== '' ? u.password : text(u.storedPassword),
              key: text(u.key),
              home: text(u.home),
              shell: text(u.shell),
              groups: list(u.groups),
              uid: integer(u.uid),
              gid: integer(u.gid),
            }),
          ),
    group:
      form.userGroups.length === 0
        ? undefined
        : form.userGroups.map((g) => compact({ name: g.name.trim(), gid: integer(g.gid) })),
    timezone: compact({
      ...obj(c.timezone),
      timezone: text(form.timezone),
      ntpservers: list(form.ntpServers),
    }),
    locale: compact({ ...obj(c.locale), languages: list(form.languages), keyboard: text(form.keyboard) }),
    firewall: compact({
      ...firewall,
      ports: list(form.firewallPorts),
      services: compact({
        ...obj(firewall.services),
        enabled: list(form.firewallEnabled),
        disabled: list(form.firewallDisabled),
      }),
    }),
    services: compact({
      ...obj(c.services),
      enabled: list(form.servicesEnabled),
      disabled: list(form.servicesDisabled),
    }),
    filesystem:
      form.filesystems.length === 0
        ? undefined
        : form.filesystems.map((f) => ({ mountpoint: f.mountpoint.trim(), minsize: size(f.minsize) })),
  });
  return {
    ...base,
    name: form.name.trim(),
    description: form.description,
    version: form.version.trim(),
    packages: packageSpecs(form.packages),
    modules: packageSpecs(form.modules),
    groups: splitList(form.groups).map((name) => ({ name })),
    distro: form.distro.trim(),
    customizations,
  };
}

/** `prefix.i.field` for each row and field. */
const rowKeys = (prefix: string, count: number, fields: readonly string[]): string[] =>
  Array.from({ length: count }, (_, i) => fields.map((f) => `${prefix}.${i}.${f}`)).flat();

const USER_FIELDS = ['name', 'description', 'password', 'key', 'groups', 'home', 'shell', 'uid', 'gid'];

/** The keys of every field the form shows, for `placeIssues`. */
export function fieldKeys(form: EditorForm): string[] {
  const c = 'customizations';
  return [
    'name',
    'description',
    'version',
    'distro',
    'groups',
    ...rowKeys('packages', form.packages.length, ['name', 'version']),
    ...rowKeys('modules', form.modules.length, ['name', 'version']),
    `${c}.hostname`,
    `${c}.kernel.append`,
    `${c}.services.enabled`,
    `${c}.services.disabled`,
    `${c}.firewall.ports`,
    `${c}.firewall.services.enabled`,
    `${c}.firewall.services.disabled`,
    `${c}.timezone.timezone`,
    `${c}.timezone.ntpservers`,
    `${c}.locale.languages`,
    `${c}.locale.keyboard`,
    ...rowKeys(`${c}.user`, form.users.length, USER_FIELDS),
    ...rowKeys(`${c}.group`, form.userGroups.length, ['name', 'gid']),
    ...rowKeys(`${c}.filesystem`, form.filesystems.length, ['mountpoint', 'minsize']),
  ];
}

export interface PlacedIssues {
  /** Messages by field key. */
  byField: Map<string, string[]>;
  /** Problems no field shows (the blueprint as a whole, keys the editor does not edit). */
  rest: Issue[];
}

/**
 * Each problem to the field whose key is its path or the longest start of it: an item of a list
 * typed in one input (`customizations.firewall.ports.2`) goes to that input.
 */
export function placeIssues(issues: readonly Issue[], keys: readonly string[]): PlacedIssues {
  const byField = new Map<string, string[]>();
  const rest: Issue[] = [];
  const known = new Set(keys);
  for (const issue of issues) {
    let path = issue.path.map(String);
    while (path.length > 0 && !known.has(keyOf(path))) path = path.slice(0, -1);
    if (path.length === 0) {
      rest.push(issue);
      continue;
    }
    const key = keyOf(path);
    byField.set(key, [...(byField.get(key) ?? []), issue.message]);
  }
  return { byField, rest };
}

/** `.customizations.user[0].name: message` (the API's words for a schema problem), split up. */
const PATH_AND_MESSAGE = /^((?:\.[A-Za-z0-9_-]+|\[\d+\]|\.'[^']*')+|\.): ([\s\S]*)$/;
const PATH_PART = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\.'([^']*)'/g;

/**
 * The problems in an error the API answered a save with. A refused schema names each problem's
 * path (several joined by "; "); a refused name or distro is said in words of its own; anything
 * else is a problem of the whole blueprint.
 */
export function issuesOfApiError(id: string, message: string): Issue[] {
  if (id === 'InvalidChars') return [{ path: ['name'], message }];
  if (/is not a valid distribution/.test(message)) return [{ path: ['distro'], message }];
  const issues: Issue[] = [];
  for (const part of message.split(/; (?=\.)/)) {
    const m = PATH_AND_MESSAGE.exec(part);
    if (!m) return [{ path: [], message }];
    const path: (string | number)[] = [];
    for (const p of (m[1] as string).matchAll(PATH_PART)) {
      path.push(p[2] !== undefined ? Number(p[2]) : (p[1] ?? p[3] ?? ''));
    }
    issues.push({ path, message: m[2] as string });
  }
  return issues;
}
