import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { posix } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';
import {
  expandSpecifiers,
  isTemplate,
  parseInstall,
  parseUnitName,
  templateOf,
  unitName,
  withInstance,
} from './units.ts';

type Options = z.input<typeof options>;

/** Where `systemctl --root` writes (the persistent system configuration). */
export const CONFIG_DIR = '/etc/systemd/system';
/** Where units are looked up, first match wins (as systemd's system lookup paths). */
export const UNIT_PATH = [
  CONFIG_DIR,
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
];

interface FoundUnit {
  /** The unit's own name: the requested one, or the one an alias link leads to. */
  name: string;
  /** The unit file, as a path in the tree (the target of the links that enable it). */
  path: string;
  masked: boolean;
}

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

class Systemd {
  constructor(readonly tree: string) {}

  host(path: string, followLast = true): string {
    return inRoot(this.tree, path, followLast);
  }

  /** The tree path of a host path inside the tree. */
  treePath(host: string): string {
    return `/${posix.relative(posix.normalize(this.tree), host)}`;
  }

  find(name: string): FoundUnit | undefined {
    for (const dir of UNIT_PATH) {
      const path = posix.join(dir, name);
      const link = this.host(path, false);
      const st = lstatSync(link, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isSymbolicLink() && readlinkSync(link) === '/dev/null') return { name, path, masked: true };
      const real = this.host(path);
      const target = statSync(real, { throwIfNoEntry: false });
      if (!target?.isFile()) continue;
      if (target.size === 0) return { name, path, masked: true };
      if (!st.isSymbolicLink()) return { name, path, masked: false };
      // an alias (or linked unit): the unit is the file the link leads to
      const realPath = this.treePath(real);
      const realName = posix.basename(realPath);
      const same = parseUnitName(realName)?.type === parseUnitName(name)?.type;
      return { name: same ? realName : name, path: realPath, masked: false };
    }
    const template = templateOf(name);
    if (template) {
      const found = this.find(template);
      if (found) return { ...found, name };
    }
    return undefined;
  }

  /** Creates `link` → `target`; an existing link elsewhere is replaced only when `replace`. */
  link(link: string, target: string, replace: boolean): void {
    const host = this.host(link, false);
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (st) {
      if (!st.isSymbolicLink()) throw new StageError(`${link} exists already and is not a symbolic link`);
      const current = readlinkSync(host);
      if (current === target) return;
      if (target !== '/dev/null' && current !== '/dev/null' && this.host(link) === this.host(target)) return;
      if (!replace) throw new StageError(`${link} exists already and links to ${current}`);
      unlinkSync(host);
      log(`Removed "${link}".`);
    }
    mkdirSync(posix.dirname(host), { recursive: true });
    symlinkSync(target, host);
    log(`Created symlink ${link} → ${target}.`);
  }

  enable(requested: string, seen: Set<string>, auxiliary = false): void {
    if (seen.has(requested)) return;
    seen.add(requested);
    unitName(requested);
    const unit = this.find(requested);
    if (!unit) {
      if (auxiliary) {
        log(`Unit ${requested} (from Also=) does not exist, ignoring.`);
        return;
      }
      throw new StageError(`cannot enable ${requested}: the unit does not exist`);
    }
    if (unit.masked) throw new StageError(`cannot enable ${requested}: the unit is masked (${unit.path})`);
    const install = parseInstall(readFileSync(this.host(unit.path), 'utf8'));
    let name = unit.name;
    if (isTemplate(name) && install.defaultInstance) name = withInstance(name, install.defaultInstance);
    const instance = unitName(name).instance;

    const dependencies: [string[], string][] = [
      [install.wantedBy, 'wants'],
      [install.requiredBy, 'requires'],
      [install.upheldBy, 'upholds'],
    ];
    for (const [targets, kind] of dependencies) {
      for (const raw of targets) {
        let target = expandSpecifiers(raw, name);
        unitName(target);
        if (isTemplate(target) && instance) target = withInstance(target, instance);
        else if (!isTemplate(target) && instance === '') {
          throw new StageError(`cannot enable ${name}: it is a template and ${target} is not`);
        }
        this.link(posix.join(CONFIG_DIR, `${target}.${kind}`, name), unit.path, true);
        if (!this.find(target))
          log(`Unit ${name} is added as a dependency to a non-existent unit ${target}.`);
      }
    }
    for (const raw of install.alias) {
      let alias = expandSpecifiers(raw, name);
      const parsed = unitName(alias);
      if (parsed.type !== unitName(name).type) {
        throw new StageError(`Alias=${alias} of ${name} is not of the same unit type`);
      }
      if (isTemplate(alias) && instance) alias = withInstance(alias, instance);
      const link = posix.join(CONFIG_DIR, alias);
      if (link !== unit.path) this.link(link, unit.path, false);
    }
    for (const raw of install.also) this.enable(expandSpecifiers(raw, name), seen, true);

    const nothing = [
      install.wantedBy,
      install.requiredBy,
      install.upheldBy,
      install.alias,
      install.also,
    ].every((l) => l.length === 0);
    if (nothing) log(`${requested} has no installation config ([Install] section); nothing to enable.`);
  }

  /** The names `disable` removes links to or of: the unit, its real name and its Also= units. */
  disableNames(requested: string, names: Set<string>): void {
    if (names.has(requested)) return;
    unitName(requested);
    const unit = this.find(requested);
    if (!unit) {
      log(`Unit ${requested} does not exist, nothing to disable.`);
      return;
    }
    if (unit.masked) {
      log(`Unit ${requested} is masked, ignoring.`);
      return;
    }
    names.add(requested);
    names.add(unit.name);
    const install = parseInstall(readFileSync(this.host(unit.path), 'utf8'));
    for (const raw of install.also) this.disableNames(expandSpecifiers(raw, unit.name), names);
  }

  disable(requested: string): void {
    const names = new Set<string>();
    this.disableNames(requested, names);
    if (names.size === 0) return;
    const root = this.host(CONFIG_DIR);
    // removes the links in `dir` and below; returns whether it removed any
    const sweep = (dir: string): boolean => {
      let removed = false;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const host = posix.join(dir, e.name);
        if (e.isDirectory()) {
          // a directory this emptied goes too, as systemctl does
          if (sweep(host) && readdirSync(host).length === 0) rmdirSync(host);
        } else if (e.isSymbolicLink()) {
          const dest = readlinkSync(host);
          if (dest === '/dev/null') continue;
          if (names.has(e.name) || names.has(posix.basename(dest))) {
            unlinkSync(host);
            removed = true;
            log(`Removed "${this.treePath(host)}".`);
          }
        }
      }
      return removed;
    };
    if (lstatSync(root, { throwIfNoEntry: false })?.isDirectory()) sweep(root);
  }

  mask(name: string): void {
    unitName(name);
    this.link(posix.join(CONFIG_DIR, name), '/dev/null', false);
  }

  maskGenerator(generator: string): void {
    if (generator.includes('/') || generator === '.' || generator === '..' || generator === '') {
      throw new StageError(`invalid generator name '${generator}'`);
    }
    this.link(posix.join('/etc/systemd/system-generators', generator), '/dev/null', false);
  }

  setDefault(target: string): void {
    if (unitName(target).type !== 'target')
      throw new StageError(`default target ${target} is not a .target unit`);
    const unit = this.find(target);
    if (!unit) throw new StageError(`cannot set the default target: ${target} does not exist`);
    if (unit.masked) throw new StageError(`cannot set the default target: ${target} is masked`);
    this.link(posix.join(CONFIG_DIR, 'default.target'), unit.path, true);
  }

  dropins(dropins: NonNullable<Options['unit_dropins']>): void {
    for (const [unit, files] of Object.entries(dropins)) {
      unitName(unit);
      if (unit.length + 2 > 255) throw new StageError(`the drop-in directory name of ${unit} is too long`);
      const dir = `/usr/lib/systemd/system/${unit}.d`;
      mkdirSync(this.host(dir), { recursive: true });
      for (const [file, sections] of Object.entries(files)) {
        if (file.includes('/')) throw new StageError(`invalid drop-in file name '${file}'`);
        let text = '';
        for (const [section, settings] of Object.entries(sections)) {
          text += `[${section}]\n`;
          for (const [key, value] of Object.entries(settings ?? {})) text += `${key}=${value}\n`;
          text += '\n';
        }
        writeFileSync(this.host(`${dir}/${file}`), text);
      }
    }
  }
}

export function main(args: StageArguments<Options>): void {
  const o = args.options;
  const systemd = new Systemd(args.tree);
  for (const unit of o.enabled_services ?? []) systemd.enable(unit, new Set());
  for (const unit of o.disabled_services ?? []) systemd.disable(unit);
  for (const unit of o.masked_services ?? []) systemd.mask(unit);
  for (const generator of o.masked_generators ?? []) systemd.maskGenerator(generator);
  if (o.default_target) systemd.setDefault(o.default_target);
  if (o.unit_dropins) systemd.dropins(o.unit_dropins);
}
