/**
 * Blueprint customizations as stages, in the order an image is configured: hostname, locale,
 * keyboard, timezone, groups, users (with their SSH keys), directories and files, services,
 * firewall. Generic OSBuild stages are reused wherever one fits. Each step returns no stage when
 * the blueprint does not ask for it.
 */
import { createHash } from 'node:crypto';
import type { Customizations } from '@debian-forge/blueprint';
import type { StageV2 } from '@debian-forge/manifest';

/** A stage of a pipeline being made, in the manifest's own form. */
export type StageDesc = StageV2;

/** Inline sources that customizations need (file contents), keyed by checksum. */
export type InlineItems = Record<string, { encoding: 'base64'; data: string }>;

/** Packages the customizations need in the image. */
export function customizationPackages(c: Customizations | undefined): string[] {
  const pkgs: string[] = [];
  if (
    c?.firewall &&
    ((c.firewall.ports?.length ?? 0) > 0 || (c.firewall.services?.enabled?.length ?? 0) > 0)
  ) {
    pkgs.push('nftables');
  }
  if ((c?.sshkey?.length ?? 0) > 0 || c?.user?.some((u) => u.key)) pkgs.push('openssh-server');
  if (c?.locale?.languages?.some((l) => !/^(C|POSIX)(\.|$)/.test(l))) pkgs.push('locales');
  if (c?.timezone?.ntpservers?.length) pkgs.push('systemd-timesyncd');
  return pkgs;
}

export function customizationStages(c: Customizations | undefined, inline: InlineItems): StageDesc[] {
  if (!c) return [];
  return [
    hostname(c),
    locale(c),
    keymap(c),
    timezone(c),
    ...timeservers(c, inline),
    groups(c),
    users(c),
    ...directoriesAndFiles(c, inline),
    services(c),
    ...firewall(c, inline),
  ].filter((s): s is StageDesc => s !== undefined);
}

function hostname(c: Customizations): StageDesc | undefined {
  return c.hostname ? { type: 'org.osbuild.hostname', options: { hostname: c.hostname } } : undefined;
}

function locale(c: Customizations): StageDesc | undefined {
  const language = c.locale?.languages?.[0];
  return language ? { type: 'org.osbuild.locale', options: { language } } : undefined;
}

function keymap(c: Customizations): StageDesc | undefined {
  return c.locale?.keyboard
    ? { type: 'org.osbuild.keymap', options: { keymap: c.locale.keyboard } }
    : undefined;
}

function timezone(c: Customizations): StageDesc | undefined {
  return c.timezone?.timezone
    ? { type: 'org.osbuild.timezone', options: { zone: c.timezone.timezone } }
    : undefined;
}

function timeservers(c: Customizations, inline: InlineItems): StageDesc[] {
  const servers = c.timezone?.ntpservers ?? [];
  if (servers.length === 0) return [];
  const conf = `[Time]\nNTP=${servers.join(' ')}\n`;
  return writeFile('/etc/systemd/timesyncd.conf.d/50-blueprint.conf', conf, inline);
}

function groups(c: Customizations): StageDesc | undefined {
  if (!c.group?.length) return undefined;
  const groups: Record<string, Record<string, unknown>> = {};
  for (const g of c.group) groups[g.name] = g.gid !== undefined ? { gid: g.gid } : {};
  return { type: 'org.osbuild.groups', options: { groups } };
}

function users(c: Customizations): StageDesc | undefined {
  const users: Record<string, Record<string, unknown>> = {};
  for (const u of c.user ?? []) {
    const entry: Record<string, unknown> = {};
    for (const key of [
      'uid',
      'gid',
      'groups',
      'description',
      'home',
      'shell',
      'password',
      'key',
      'expiredate',
    ] as const) {
      if (u[key] !== undefined && u[key] !== '') entry[key] = u[key];
    }
    if (u.force_password_reset) entry.force_password_reset = true;
    users[u.name] = entry;
  }
  for (const k of c.sshkey ?? []) {
    const entry = users[k.user] ?? {};
    const keys = [
      ...((entry.keys as string[] | undefined) ?? []),
      ...(entry.key ? [entry.key as string] : []),
      k.key,
    ];
    delete entry.key;
    entry.keys = [...new Set(keys)];
    users[k.user] = entry;
  }
  return Object.keys(users).length > 0 ? { type: 'org.osbuild.users', options: { users } } : undefined;
}

function services(c: Customizations): StageDesc | undefined {
  const enabled = [...(c.services?.enabled ?? [])];
  if (c.firewall && firewallWanted(c)) enabled.push('nftables.service');
  const options: Record<string, unknown> = {};
  if (enabled.length) options.enabled_services = [...new Set(enabled.map(unitName))];
  if (c.services?.disabled?.length) options.disabled_services = c.services.disabled.map(unitName);
  if (c.services?.masked?.length) options.masked_services = c.services.masked.map(unitName);
  return Object.keys(options).length > 0 ? { type: 'org.osbuild.systemd', options } : undefined;
}

/** Composer accepts bare service names (`sshd`); systemd wants unit names (`sshd.service`). */
function unitName(name: string): string {
  return /\.(service|socket|timer|target|path|mount|automount|swap|slice)$/.test(name)
    ? name
    : `${name}.service`;
}

function firewallWanted(c: Customizations): boolean {
  return (c.firewall?.ports?.length ?? 0) > 0 || (c.firewall?.services?.enabled?.length ?? 0) > 0;
}

/** Well-known service names of firewalld's catalogue that blueprints use, as ports. */
const FIREWALL_SERVICES: Record<string, string[]> = {
  ssh: ['22:tcp'],
  http: ['80:tcp'],
  https: ['443:tcp'],
  dns: ['53:tcp', '53:udp'],
  ntp: ['123:udp'],
  cockpit: ['9090:tcp'],
};

/**
 * Debian has no firewalld by default: the blueprint's firewall becomes an nftables ruleset that
 * drops incoming traffic except loopback, established connections, ICMP, SSH and what the
 * blueprint opens (ports `22:tcp`, `8000-8080:tcp`, or service names from firewalld's catalogue).
 */
function firewall(c: Customizations, inline: InlineItems): StageDesc[] {
  if (!firewallWanted(c)) return [];
  const open = new Set<string>(['22:tcp']);
  for (const p of c.firewall?.ports ?? []) open.add(p);
  for (const s of c.firewall?.services?.enabled ?? [])
    for (const p of FIREWALL_SERVICES[s] ?? []) open.add(p);
  for (const s of c.firewall?.services?.disabled ?? [])
    for (const p of FIREWALL_SERVICES[s] ?? []) open.delete(p);
  const rules = [...open].map((p) => {
    const [port = '', proto = 'tcp'] = p.split(':');
    return `    ${proto} dport ${port.replace('-', '-')} accept`;
  });
  const conf = [
    '#!/usr/sbin/nft -f',
    "# Written by Debian Forge from the blueprint's firewall customization.",
    'flush ruleset',
    'table inet filter {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    iif "lo" accept',
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    meta l4proto { icmp, ipv6-icmp } accept',
    ...rules,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy drop;',
    '  }',
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    '  }',
    '}',
    '',
  ].join('\n');
  return writeFile('/etc/nftables.conf', conf, inline, '0755');
}

function directoriesAndFiles(c: Customizations, inline: InlineItems): StageDesc[] {
  const stages: StageDesc[] = [];
  if (c.directories?.length) {
    stages.push({
      type: 'org.osbuild.mkdir',
      options: {
        paths: c.directories.map((d) => ({
          path: d.path,
          ...(d.mode ? { mode: Number.parseInt(d.mode, 8) } : {}),
          parents: d.ensure_parents ?? false,
          exist_ok: true,
        })),
      },
    });
    const owners = ownership(c.directories);
    if (owners) stages.push(owners);
  }
  for (const f of c.files ?? [])
    stages.push(...writeFile(f.path, f.data ?? '', inline, f.mode, f.user, f.group));
  return stages;
}

function ownership(
  items: { path: string; user?: string | number; group?: string | number }[],
): StageDesc | undefined {
  const entries: Record<string, Record<string, unknown>> = {};
  for (const i of items) {
    if (i.user === undefined && i.group === undefined) continue;
    entries[i.path] = {
      ...(i.user !== undefined ? { user: i.user } : {}),
      ...(i.group !== undefined ? { group: i.group } : {}),
    };
  }
  return Object.keys(entries).length > 0
    ? { type: 'org.osbuild.chown', options: { items: entries } }
    : undefined;
}

/** Stages that put `content` at `path` in the tree, from an inline source. */
export function writeFile(
  path: string,
  content: string,
  inline: InlineItems,
  mode?: string,
  user?: string | number,
  group?: string | number,
): StageDesc[] {
  const data = Buffer.from(content, 'utf8');
  const checksum = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  inline[checksum] = { encoding: 'base64', data: data.toString('base64') };
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const stages: StageDesc[] = [
    { type: 'org.osbuild.mkdir', options: { paths: [{ path: parent, parents: true, exist_ok: true }] } },
    {
      type: 'org.osbuild.copy',
      inputs: { file: { type: 'org.osbuild.files', origin: 'org.osbuild.source', references: [checksum] } },
      options: {
        paths: [{ from: `input://file/${checksum}`, to: `tree://${path}`, remove_destination: true }],
      },
    },
  ];
  if (mode) stages.push({ type: 'org.osbuild.chmod', options: { items: { [path]: { mode } } } });
  const owner = ownership([{ path, user, group }]);
  if (owner) stages.push(owner);
  return stages;
}
