import { z } from 'zod';
import { defineStage, patternRecord } from '../../shared/define.ts';

const units = (what: string) => z.array(z.string()).optional().describe(what);

/** Drop-in files of one `.service` unit: file name → sections (as OSBuild's 2021 schema). */
const dropinFile = z
  .strictObject({
    Service: z
      .strictObject({
        Environment: z.string().optional().describe('environment variables for the started processes'),
      })
      .optional()
      .describe('the [Service] section'),
  })
  .describe('one drop-in file');

export const options = z.strictObject({
  enabled_services: units('units to enable, as `systemctl enable` does'),
  disabled_services: units('units to disable: every link to them in /etc/systemd/system goes'),
  masked_services: units('units to mask: /etc/systemd/system/<unit> links to /dev/null'),
  masked_generators: units('generators to mask: /etc/systemd/system-generators/<name> links to /dev/null'),
  default_target: z.string().optional().describe('the target to boot into'),
  unit_dropins: patternRecord(
    /^[\w:.\\-]+[@]{0,1}[\w:.\\-]*\.service$/,
    patternRecord(/^[\w.-]{1,250}\.conf$/, dropinFile).describe('drop-in files of one .service unit'),
  )
    .optional()
    .describe(
      'drop-in files to write to /usr/lib/systemd/system/<unit>.d/ (an older OSBuild option, kept for old manifests)',
    ),
});

export default defineStage({
  type: 'org.osbuild.systemd',
  summary: 'Enable, disable and mask systemd units, set the default target',
  description: [
    'Does what `systemctl --root` would do, without running systemd or systemctl: the stage reads',
    "the units' [Install] sections in the tree and makes the symbolic links itself, so the build",
    'root needs no systemd.',
    'Units are looked up in /etc/systemd/system, /run/systemd/system, /usr/local/lib/systemd/system,',
    '/usr/lib/systemd/system and /lib/systemd/system of the tree, first match wins; an alias link',
    'leads to the unit it names, an instance with no unit file of its own to its template.',
    'Enabling links the unit file into <target>.wants/, .requires/ or .upholds/ of /etc/systemd/system',
    'for each WantedBy=, RequiredBy= and UpheldBy= target (a template with its DefaultInstance=),',
    'creates each Alias= link and enables each Also= unit. Specifiers that depend on the unit name',
    '(%n %N %p %P %i %I %j %J %f %%) are expanded; host specifiers are refused. Enabling a',
    'missing or masked unit fails, an existing alias link to another unit too.',
    'Disabling removes every link below /etc/systemd/system named after the unit (or its Also=',
    'units) or pointing to a file of that name, default.target included, but no mask.',
    'Masking links /etc/systemd/system/<unit> to /dev/null; generators are masked the same way in',
    '/etc/systemd/system-generators. `default_target` links /etc/systemd/system/default.target to',
    'the target unit file.',
    'Order: enable, disable, mask, mask generators, default target, drop-ins.',
  ],
  options,
});
