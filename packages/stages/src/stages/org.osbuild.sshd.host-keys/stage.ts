import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { StageArguments } from '../../shared/arguments.ts';
import { inRoot } from '../../shared/paths.ts';
import type { options } from './schema.ts';

export const UNIT = 'ssh-host-keys.service';

const unitText = `[Unit]
Description=Create missing SSH host keys
Before=ssh.service sshd.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
`;

export function main(args: StageArguments<z.input<typeof options>>): { removed: string[] } {
  const sshDir = inRoot(args.tree, '/etc/ssh');
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(sshDir);
  } catch {
    // no /etc/ssh: nothing to remove
  }
  for (const name of names.filter((n) => /^ssh_host_.*_key(\.pub)?$/.test(n)).sort()) {
    rmSync(`${sshDir}/${name}`);
    removed.push(`/etc/ssh/${name}`);
  }
  if (args.options['generate-on-boot'] ?? true) {
    const unit = inRoot(args.tree, `/etc/systemd/system/${UNIT}`);
    mkdirSync(dirname(unit), { recursive: true });
    writeFileSync(unit, unitText);
    const link = inRoot(args.tree, `/etc/systemd/system/multi-user.target.wants/${UNIT}`, false);
    mkdirSync(dirname(link), { recursive: true });
    rmSync(link, { force: true });
    symlinkSync(`/etc/systemd/system/${UNIT}`, link);
  }
  return { removed };
}
