import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { StageError } from '../../shared/errors.ts';
import { copyModules } from '../../shared/grub-modules.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

export interface FsSpec {
  uuid?: string | undefined;
  label?: string | undefined;
}

export interface Kernel {
  version: string;
  /** File names in /boot. */
  kernel: string;
  initrds: string[];
}

/** Names the early microcode images may have (GRUB's GRUB_EARLY_INITRD_LINUX_STOCK). */
const EARLY_INITRDS = [
  'intel-uc.img',
  'intel-ucode.img',
  'amd-uc.img',
  'amd-ucode.img',
  'early_ucode.cpio',
  'microcode.cpio',
];

/** Left-over files that are not kernels (as grub-mkconfig's grub_file_is_not_garbage). */
const GARBAGE = /(\.dpkg-[a-z]+|\.rpmsave|\.rpmnew|\.old|\.bak|~|\.sig|\.cfg)$/;

/** Compares versions as `sort -V` does: digit runs by value, the rest by characters. */
export function compareVersions(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (x !== y) {
      if (nx !== ny) return nx ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** The kernels in /boot of the tree, newest first, with their initrds. */
export function findKernels(boot: string): Kernel[] {
  let names: string[];
  try {
    names = readdirSync(boot);
  } catch {
    return [];
  }
  const early = EARLY_INITRDS.filter((n) => names.includes(n));
  const kernels: Kernel[] = [];
  for (const name of names) {
    const m = /^vmlinuz-(.+)$/.exec(name);
    if (!m?.[1] || GARBAGE.test(name)) continue;
    if (!statSync(join(boot, name), { throwIfNoEntry: false })?.isFile()) continue;
    const version = m[1];
    const initrd = [
      `initrd.img-${version}`,
      `initrd-${version}.img`,
      `initrd-${version}.gz`,
      `initrd-${version}`,
      `initramfs-${version}.img`,
    ].find((n) => names.includes(n));
    kernels.push({ version, kernel: name, initrds: [...early, ...(initrd ? [initrd] : [])] });
  }
  return kernels.sort((a, b) => compareVersions(b.version, a.version));
}

/** A string as a single-quoted GRUB (and shell) word. */
export function quote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** A value for a double-quoted shell assignment in /etc/default/grub. */
function shellValue(s: string): string {
  return `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

function fsSpec(spec: FsSpec): { search: string; kernelRoot: string; id: string } {
  if (spec.uuid) return { search: `--fs-uuid ${spec.uuid}`, kernelRoot: `UUID=${spec.uuid}`, id: spec.uuid };
  if (spec.label)
    return { search: `--label ${quote(spec.label)}`, kernelRoot: `LABEL=${spec.label}`, id: spec.label };
  throw new StageError('a file system needs a uuid or a label');
}

export interface Resolved {
  rootfs: FsSpec;
  bootfs?: FsSpec | undefined;
  kernelOpts: string;
  distributor?: string | undefined;
  config: NonNullable<Options['config']>;
  ignition: boolean;
  /** Whether a saved_entry is given: then the default entry is the saved one. */
  saved: boolean;
}

/** The distributor name GRUB shows, from os-release as Debian's lsb_release would give it. */
export function distributorOf(tree: string): string | undefined {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    let text: string;
    try {
      text = readFileSync(inRoot(tree, path), 'utf8');
    } catch {
      continue;
    }
    const name = /^NAME=["']?([^"'\n]*)/m.exec(text)?.[1]?.trim();
    if (name) return name.split(/\s+/)[0];
  }
  return undefined;
}

/** The kernel arguments after the root file system. */
function args(r: Resolved, recovery: boolean): string {
  const words = r.kernelOpts.split(/\s+/).filter(Boolean);
  const parts = [
    ...(words.includes('ro') || words.includes('rw') ? [] : ['ro']),
    ...(recovery ? ['single'] : []),
    ...words,
  ];
  if (r.ignition) parts.push('$ignition_firstboot');
  return parts.join(' ');
}

/** /boot/grub/grub.cfg: header, terminals, and the menu entries of the kernels. */
export function grubConfig(r: Resolved, kernels: Kernel[]): string {
  const c = r.config;
  const root = fsSpec(r.rootfs);
  const boot = fsSpec(r.bootfs ?? r.rootfs);
  const bootDir = r.bootfs ? '' : '/boot';
  const d = r.distributor;
  const os = !d ? 'GNU/Linux' : /^(Ubuntu|Kubuntu)$/.test(d) ? d : `${d} GNU/Linux`;
  const classes = [
    ...(d
      ? [
          d
            .toLowerCase()
            .split(' ')[0]
            ?.replace(/[^a-z0-9_]/g, '_') ?? '',
        ]
      : []),
    'gnu-linux',
    'gnu',
    'os',
  ]
    .map((x) => `--class ${x}`)
    .join(' ');
  const def = c.default ?? (r.saved ? 'saved' : '0');
  const defaultValue = def === 'saved' ? `"\${saved_entry}"` : quote(def);
  // GRUB script, not JavaScript placeholders: hence the escaped \${…}.
  const header = `# Written by Debian Forge (org.osbuild.grub2). update-grub writes an equivalent file from
# /etc/default/grub and the kernels in /boot.

if [ -s "\${config_directory}/grubenv" ]; then
  set have_grubenv=true
  load_env --file "\${config_directory}/grubenv"
fi
if [ "\${next_entry}" ]; then
  set default="\${next_entry}"
  set next_entry=
  if [ "\${have_grubenv}" ]; then save_env --file "\${config_directory}/grubenv" next_entry; fi
  set boot_once=true
else
  set default=${defaultValue}
fi

if [ x"\${feature_menuentry_id}" = xy ]; then
  menuentry_id_option="--id"
else
  menuentry_id_option=""
fi
export menuentry_id_option

function load_video {
  insmod all_video
}
`;
  const lines: string[] = header.split('\n');
  if (c.serial) lines.push(c.serial);
  const input = c.terminal_input ?? c.terminal;
  const output = c.terminal_output ?? c.terminal;
  if (input) lines.push(`terminal_input ${input.join(' ')}`);
  if (output) lines.push(`terminal_output ${output.join(' ')}`);
  if (c.timeout_style) lines.push(`set timeout_style=${c.timeout_style}`);
  lines.push(`set timeout=${c.timeout ?? 0}`, '');
  if (r.ignition) {
    const home = r.bootfs ? '/' : '/boot/';
    lines.push(
      '# Ignition: the first boot passes ignition.firstboot (and network settings) to the kernel.',
      'set ignition_firstboot=""',
      `if [ -f "${home}ignition.firstboot" ]; then`,
      '  set ignition_network_kcmdline=""',
      `  source "${home}ignition.firstboot"`,
      `  set ignition_firstboot="ignition.firstboot \${ignition_network_kcmdline}"`,
      'fi',
      '',
    );
  }

  const entry = (title: string, id: string, k: Kernel, recovery: boolean, indent: string) => {
    const body = [
      `menuentry ${quote(title)} ${classes} $menuentry_id_option ${quote(id)} {`,
      '\tload_video',
      '\tinsmod gzio',
      '\tinsmod part_gpt',
      '\tinsmod part_msdos',
      `\tsearch --no-floppy --set=root ${boot.search}`,
      `\techo\t${quote(`Loading Linux ${k.version} ...`)}`,
      `\tlinux\t${bootDir}/${k.kernel} root=${root.kernelRoot} ${args(r, recovery)}`,
      ...(k.initrds.length > 0
        ? [
            `\techo\t${quote('Loading initial ramdisk ...')}`,
            `\tinitrd\t${k.initrds.map((i) => `${bootDir}/${i}`).join(' ')}`,
          ]
        : []),
      '}',
    ];
    return body.map((l) => indent + l);
  };

  const [newest] = kernels;
  const recovery = c.disable_recovery !== true;
  if (newest && c.disable_submenu === true) {
    for (const k of kernels) {
      lines.push(
        ...entry(`${os}, with Linux ${k.version}`, `gnulinux-${k.version}-advanced-${root.id}`, k, false, ''),
      );
      if (recovery) {
        lines.push(
          ...entry(
            `${os}, with Linux ${k.version} (recovery mode)`,
            `gnulinux-${k.version}-recovery-${root.id}`,
            k,
            true,
            '',
          ),
        );
      }
    }
  } else if (newest) {
    lines.push(...entry(os, `gnulinux-simple-${root.id}`, newest, false, ''));
    lines.push(
      `submenu ${quote(`Advanced options for ${os}`)} $menuentry_id_option ${quote(`gnulinux-advanced-${root.id}`)} {`,
    );
    for (const k of kernels) {
      lines.push(
        ...entry(
          `${os}, with Linux ${k.version}`,
          `gnulinux-${k.version}-advanced-${root.id}`,
          k,
          false,
          '\t',
        ),
      );
      if (recovery) {
        lines.push(
          ...entry(
            `${os}, with Linux ${k.version} (recovery mode)`,
            `gnulinux-${k.version}-recovery-${root.id}`,
            k,
            true,
            '\t',
          ),
        );
      }
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

/** /etc/default/grub: what update-grub needs to write the same configuration. */
export function defaultsFile(r: Resolved): string {
  const c = r.config;
  const lines = [
    '# Written by Debian Forge (org.osbuild.grub2). Run update-grub after changing this file.',
    `GRUB_DEFAULT=${c.default ?? (r.saved ? 'saved' : '0')}`,
    `GRUB_TIMEOUT=${c.timeout ?? 0}`,
  ];
  if (c.timeout_style) lines.push(`GRUB_TIMEOUT_STYLE=${c.timeout_style}`);
  if (r.distributor) lines.push(`GRUB_DISTRIBUTOR=${shellValue(r.distributor)}`);
  lines.push('GRUB_CMDLINE_LINUX_DEFAULT=""', `GRUB_CMDLINE_LINUX=${shellValue(r.kernelOpts)}`);
  if (c.disable_recovery !== undefined) lines.push(`GRUB_DISABLE_RECOVERY=${c.disable_recovery}`);
  if (c.disable_submenu !== undefined) lines.push(`GRUB_DISABLE_SUBMENU=${c.disable_submenu}`);
  if (c.terminal) lines.push(`GRUB_TERMINAL=${shellValue(c.terminal.join(' '))}`);
  if (c.terminal_input) lines.push(`GRUB_TERMINAL_INPUT=${shellValue(c.terminal_input.join(' '))}`);
  if (c.terminal_output) lines.push(`GRUB_TERMINAL_OUTPUT=${shellValue(c.terminal_output.join(' '))}`);
  if (c.serial) lines.push(`GRUB_SERIAL_COMMAND=${shellValue(c.serial)}`);
  lines.push('GRUB_DISABLE_OS_PROBER=true');
  return `${lines.join('\n')}\n`;
}

/** The 1024-byte GRUB environment block. */
export function grubenv(vars: [string, string][]): string {
  let data = '# GRUB Environment Block\n';
  for (const [k, v] of vars) data += `${k}=${v}\n`;
  if (data.length > 1024) throw new StageError('the GRUB environment block would exceed 1024 bytes');
  return data + '#'.repeat(1024 - data.length);
}

/** /boot/efi/EFI/<vendor>/grub.cfg as Debian writes it: find /boot/grub and read its grub.cfg. */
export function efiRedirect(bootfs: FsSpec, separateBoot: boolean): string {
  const spec = fsSpec(bootfs);
  const dir = separateBoot ? '/grub' : '/boot/grub';
  return `search --no-floppy --set=root ${spec.search}\nset prefix=($root)'${dir}'\nconfigfile $prefix/grub.cfg\n`;
}

export function main(args: StageArguments<Options>): Record<string, unknown> {
  const o = args.options;
  if (o.greenboot) {
    throw new StageError("greenboot needs GRUB's increment module, which Debian's GRUB does not have");
  }
  const rootfs: FsSpec | undefined = o.rootfs ?? (o.root_fs_uuid ? { uuid: o.root_fs_uuid } : undefined);
  if (!rootfs) throw new StageError('either rootfs or root_fs_uuid is needed');
  const bootfs: FsSpec | undefined = o.bootfs ?? (o.boot_fs_uuid ? { uuid: o.boot_fs_uuid } : undefined);
  const r: Resolved = {
    rootfs,
    bootfs,
    kernelOpts: (o.kernel_opts ?? '').trim(),
    distributor: o.config?.distributor ?? distributorOf(args.tree),
    config: o.config ?? {},
    ignition: o.ignition ?? false,
    saved: o.saved_entry !== undefined,
  };

  const bootDir = inRoot(args.tree, '/boot');
  const kernels = findKernels(bootDir);
  if (kernels.length === 0) throw new StageError('no kernel /boot/vmlinuz-<version> in the tree');

  if (o.write_defaults ?? true) {
    const etcDefault = inRoot(args.tree, '/etc/default');
    mkdirSync(etcDefault, { recursive: true });
    writeFileSync(join(etcDefault, 'grub'), defaultsFile(r));
  }

  const grubDir = inRoot(args.tree, '/boot/grub');
  mkdirSync(grubDir, { recursive: true });
  writeFileSync(join(grubDir, 'grub.cfg'), grubConfig(r, kernels));
  const env: [string, string][] = [];
  if (o.write_cmdline ?? true)
    env.push(['kernelopts', `root=${fsSpec(rootfs).kernelRoot} ${r.kernelOpts}`.trim()]);
  if (o.saved_entry) env.push(['saved_entry', o.saved_entry]);
  writeFileSync(join(grubDir, 'grubenv'), grubenv(env));

  const meta: Record<string, unknown> = { kernels: kernels.map((k) => k.version) };
  if (o.uefi) {
    const vendor = o.uefi.vendor;
    if (o.uefi.install) {
      const src = o.uefi.efi_src_dir ?? '/boot/efi/EFI';
      for (const d of ['BOOT', vendor]) {
        if (!existsSync(join(src, d)))
          throw new StageError(`the build root has no ${join(src, d)} to install`);
        cpSync(join(src, d), inRoot(args.tree, `/boot/efi/EFI/${d}`), { recursive: true, dereference: true });
      }
    }
    const efiDir = inRoot(args.tree, `/boot/efi/EFI/${vendor}`);
    mkdirSync(efiDir, { recursive: true });
    writeFileSync(join(efiDir, 'grub.cfg'), efiRedirect(bootfs ?? rootfs, bootfs !== undefined));
  }
  if (o.legacy) {
    const platform = o.legacy === true ? 'i386-pc' : o.legacy;
    meta.modules = copyModules(grubDir, platform);
  }
  return meta;
}
