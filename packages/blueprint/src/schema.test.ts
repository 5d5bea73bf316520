import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlueprintError, formatIssue } from './errors.ts';
import { FULL_BLUEPRINT } from './examples.fixture.ts';
import { type Blueprint, checkBlueprint, validateBlueprint } from './schema.ts';

/** The problems of a document, as `path: message` lines. */
function problems(data: unknown): string[] {
  const r = checkBlueprint(data);
  assert.equal(r.ok, false, 'expected the blueprint to be rejected');
  return r.ok ? [] : r.issues.map(formatIssue);
}

function withCustomizations(c: Record<string, unknown>): Record<string, unknown> {
  return { name: 'x', customizations: c };
}

describe('valid blueprints', () => {
  it('fills in composer defaults for a blueprint with a name only', () => {
    const bp: Blueprint = validateBlueprint({ name: 'tiny' });
    assert.deepEqual(bp, {
      name: 'tiny',
      description: '',
      version: '0.0.0',
      packages: [],
      modules: [],
      enabled_modules: [],
      groups: [],
      distro: '',
    });
    assert.deepEqual(Object.keys(bp), [
      'name',
      'description',
      'version',
      'packages',
      'modules',
      'enabled_modules',
      'groups',
      'distro',
    ]);
  });

  it('treats an empty version as missing and drops empty package versions', () => {
    const bp = validateBlueprint({ name: 'x', version: '', packages: [{ name: 'less', version: '' }] });
    assert.equal(bp.version, '0.0.0');
    assert.deepEqual(bp.packages, [{ name: 'less' }]);
  });

  it('accepts every key of the format and keeps composer key order', () => {
    const bp = validateBlueprint(JSON.parse(JSON.stringify(FULL_BLUEPRINT)));
    assert.equal(JSON.stringify(bp), JSON.stringify(FULL_BLUEPRINT));
  });

  it('orders keys as composer does whatever the input order', () => {
    const bp = validateBlueprint({
      customizations: { services: { enabled: ['ssh'] }, hostname: 'h' },
      packages: [{ version: '*', name: 'less' }],
      name: 'x',
      version: '1.0.0',
    });
    assert.deepEqual(Object.keys(bp), [
      'name',
      'description',
      'version',
      'packages',
      'modules',
      'enabled_modules',
      'groups',
      'customizations',
      'distro',
    ]);
    assert.deepEqual(Object.keys(bp.packages[0] ?? {}), ['name', 'version']);
    assert.deepEqual(Object.keys(bp.customizations ?? {}), ['hostname', 'services']);
  });

  it('turns sizes into bytes, accepts the size alias and defaults the partition type', () => {
    const bp = validateBlueprint(
      withCustomizations({
        filesystem: [
          { mountpoint: '/', minsize: '3 GiB' },
          { mountpoint: '/var', size: 1000 },
          { mountpoint: '/srv', minsize: '2GB' },
          { mountpoint: '/opt', minsize: '4096' },
        ],
        disk: { minsize: '10 GiB', partitions: [{ minsize: '1 MiB', mountpoint: '/boot' }] },
      }),
    );
    assert.deepEqual(bp.customizations?.filesystem, [
      { mountpoint: '/', minsize: 3 * 1024 ** 3 },
      { mountpoint: '/var', minsize: 1000 },
      { mountpoint: '/srv', minsize: 2_000_000_000 },
      { mountpoint: '/opt', minsize: 4096 },
    ]);
    assert.deepEqual(bp.customizations?.disk, {
      minsize: 10 * 1024 ** 3,
      partitions: [{ type: 'plain', minsize: 1024 ** 2, mountpoint: '/boot' }],
    });
  });

  it('accepts Debian package names, globs, arch qualifiers and constraints', () => {
    const bp = validateBlueprint({
      name: 'pkgs',
      packages: [
        { name: 'g++', version: '>= 4:12' },
        { name: 'libc6:i386', version: '2.36-9+deb12u7' },
        { name: 'linux-image-*' },
        { name: 'xz-utils', version: '<< 5.6' },
        { name: 'r-base-core', version: '4.2.*' },
      ],
    });
    assert.equal(bp.packages.length, 5);
  });

  it('accepts repositories in Debian form and in composer form', () => {
    const bp = validateBlueprint(
      withCustomizations({
        repositories: [
          {
            id: 'a',
            uri: 'https://deb.example.org/debian',
            suites: ['bookworm'],
            components: ['main'],
            signed_by: '/etc/k.gpg',
          },
          { id: 'b', baseurls: ['http://deb.example.org/b'], gpgkeys: ['https://deb.example.org/key.asc'] },
          { id: 'c', uri: 'mirror+file:///etc/apt/mirrors.txt', signed_by: 'A'.repeat(40) },
          { id: 'd', uri: 'file:/srv/repo', suites: ['./'], trusted: true },
        ],
      }),
    );
    assert.equal(bp.customizations?.repositories?.length, 4);
  });
});

describe('invalid blueprints', () => {
  it('rejects unknown keys anywhere, naming their path', () => {
    assert.deepEqual(problems({ name: 'x', arch: 'x86_64', colour: 'red' }), [
      '.arch: unknown key "arch": did you mean "architecture"?',
      '.colour: unknown key "colour"',
    ]);
    assert.deepEqual(problems(withCustomizations({ users: [] })), [
      '.customizations.users: unknown key "users": did you mean "user" ([[customizations.user]])?',
    ]);
    assert.deepEqual(problems(withCustomizations({ user: [{ name: 'a', passwd: 'x' }] })), [
      '.customizations.user[0].passwd: unknown key "passwd"',
    ]);
    assert.deepEqual(problems({ name: 'x', packages: [{ name: 'less', arch: 'amd64' }] }), [
      '.packages[0].arch: unknown key "arch": did you mean "architecture"?',
    ]);
    assert.deepEqual(
      problems(withCustomizations({ disk: { partitions: [{ type: 'lvm', minsize: 1, mountpoint: '/' }] } })),
      ['.customizations.disk.partitions[0].mountpoint: unknown key "mountpoint"'],
    );
    assert.deepEqual(problems(withCustomizations({ firewall: { services: { enabled: [], masked: [] } } })), [
      '.customizations.firewall.services.masked: unknown key "masked"',
    ]);
  });

  it('explains yum repository keys that have no apt meaning', () => {
    assert.deepEqual(
      problems(
        withCustomizations({ repositories: [{ id: 'r', baseurls: ['http://x.example/'], metalink: 'm' }] }),
      ),
      [
        '.customizations.repositories[0].metalink: unknown key "metalink": yum repositories only: an apt repository has no metalink; give "uri" or "baseurls"',
      ],
    );
  });

  it('checks blueprint names with composer rule', () => {
    assert.deepEqual(problems({ name: 'my blueprint' }), [
      '.name: invalid blueprint name "my blueprint": use only letters, digits, ".", "_" and "-"',
    ]);
    assert.deepEqual(problems({ name: '../etc' }), [
      '.name: invalid blueprint name "../etc": use only letters, digits, ".", "_" and "-"',
    ]);
    assert.deepEqual(problems({ name: '' }), ['.name: empty blueprint name not allowed']);
    for (const name of ['.', '..']) {
      assert.deepEqual(problems({ name }), [
        `.name: invalid blueprint name "${name}": "." and ".." cannot be names (they mean directories in paths)`,
      ]);
    }
    assert.deepEqual(problems({ name: 'a\nb' }), [
      '.name: invalid blueprint name "a\\nb": use only letters, digits, ".", "_" and "-"',
    ]);
    // At most 100 characters, and a long name is not quoted back.
    assert.equal(validateBlueprint({ name: 'n'.repeat(100) }).name.length, 100);
    assert.deepEqual(problems({ name: 'n'.repeat(101) }), [
      '.name: blueprint name too long: 101 characters, at most 100 allowed',
    ]);
    assert.deepEqual(problems({ name: 'n'.repeat(100_000) }), [
      '.name: blueprint name too long: 100000 characters, at most 100 allowed',
    ]);
    assert.equal(validateBlueprint({ name: '.hidden..ok' }).name, '.hidden..ok');
    assert.deepEqual(problems({}), ['.name: required (a string)']);
    assert.deepEqual(problems({ name: 7 }), ['.name: expected a string, got an integer (7)']);
  });

  it('checks Debian package names', () => {
    assert.deepEqual(
      problems({
        name: 'x',
        packages: [{ name: 'Nginx' }, { name: 'a' }, { name: 'foo_bar' }, { version: '1.0' }],
      }),
      [
        '.packages[0].name: invalid Debian package name "Nginx": at least two characters, lower-case letters, digits, "+", "-" and ".", starting with a letter or digit ("*" and "?" allowed as globs, ":arch" as suffix)',
        '.packages[1].name: invalid Debian package name "a": at least two characters, lower-case letters, digits, "+", "-" and ".", starting with a letter or digit ("*" and "?" allowed as globs, ":arch" as suffix)',
        '.packages[2].name: invalid Debian package name "foo_bar": at least two characters, lower-case letters, digits, "+", "-" and ".", starting with a letter or digit ("*" and "?" allowed as globs, ":arch" as suffix)',
        '.packages[3].name: required (a string)',
      ],
    );
  });

  it('names the package whose version constraint is bad', () => {
    assert.deepEqual(
      problems({
        name: 'x',
        packages: [
          { name: 'curl', version: '> 7' },
          { name: 'nginx', version: 'latest' },
          { name: 'less', version: '>= 1.*' },
        ],
        modules: [{ name: 'vim', version: '1:' }],
      }),
      [
        '.packages[0].version: invalid version constraint "> 7" for package "curl": ">" is ambiguous in Debian: write ">>" (strictly) or ">=" (or equal)',
        '.packages[1].version: invalid version constraint "latest" for package "nginx": "latest" is not a Debian version: the upstream version "latest" does not start with a digit',
        '.packages[2].version: invalid version constraint ">= 1.*" for package "less": a version after ">=" cannot contain a glob ("*" or "?")',
        '.modules[0].version: invalid version constraint "1:" for package "vim": "1:" is not a Debian version: the upstream version is empty',
      ],
    );
  });

  it('checks the blueprint version is semver, with composer message', () => {
    assert.deepEqual(problems({ name: 'x', version: '1.0' }), [
      '.version: Invalid \'version\', must use Semantic Versioning: "1.0" is not in dotted-tri format (MAJOR.MINOR.PATCH)',
    ]);
    assert.deepEqual(problems({ name: 'x', version: 'v1.0.0' }), [
      '.version: Invalid \'version\', must use Semantic Versioning: "v1" in "v1.0.0" is not a decimal number',
    ]);
    assert.deepEqual(problems({ name: 'x', version: 1 }), [
      '.version: expected a string, got an integer (1)',
    ]);
  });

  it('reports wrong types with the expected and the received type', () => {
    assert.deepEqual(
      problems({
        name: 'x',
        description: ['a'],
        packages: { name: 'less' },
        groups: ['core'],
        customizations: {
          hostname: 5,
          kernel: 'linux',
          user: [{ name: 'forge', uid: '1000', gid: 1.5, groups: 'sudo', force_password_reset: 'yes' }],
          services: { enabled: 'ssh' },
          fips: 1,
        },
      }),
      [
        '.description: expected a string, got a list',
        '.packages: expected a list, got a table',
        '.groups[0]: expected a table, got a string ("core")',
        '.customizations.hostname: expected a string, got an integer (5)',
        '.customizations.kernel: expected a table, got a string ("linux")',
        '.customizations.user[0].groups: expected a list, got a string ("sudo")',
        '.customizations.user[0].uid: expected a number, got a string ("1000")',
        '.customizations.user[0].gid: expected an integer, got a number (1.5)',
        '.customizations.user[0].force_password_reset: expected a boolean, got a string ("yes")',
        '.customizations.services.enabled: expected a list, got a string ("ssh")',
        '.customizations.fips: expected a boolean, got an integer (1)',
      ],
    );
  });

  it('checks values of customizations', () => {
    assert.deepEqual(
      problems(
        withCustomizations({
          hostname: 'bad_host',
          sshkey: [{ user: 'root' }],
          user: [{ name: '-x', home: 'home/x', uid: -1 }],
          group: [{ name: 'g', gid: -5 }],
          timezone: { timezone: 'Europe Berlin' },
          locale: { languages: ['en US'] },
          firewall: { ports: ['22', '70000:tcp', '90-80:tcp', '53:udp'] },
          services: { enabled: ['a b'] },
          partitioning_mode: 'zfs',
        }),
      ),
      [
        '.customizations.hostname: invalid hostname "bad_host": dot-separated labels of letters, digits and "-", each 1 to 63 characters, not starting or ending with "-"',
        '.customizations.sshkey[0].key: required (a string)',
        '.customizations.user[0].name: invalid user name "-x": up to 32 letters, digits, "_", "." and "-", not starting with "-"',
        '.customizations.user[0].home: "home/x" is not an absolute path',
        '.customizations.user[0].uid: uid must not be negative, got -1',
        '.customizations.group[0].gid: gid must not be negative, got -5',
        '.customizations.timezone.timezone: invalid time zone "Europe Berlin" (e.g. "Europe/Berlin", "UTC")',
        '.customizations.locale.languages[0]: invalid locale "en US" (e.g. "en_US.UTF-8")',
        '.customizations.firewall.ports[0]: invalid firewall port "22": write PORT:PROTOCOL, PORT-PORT:PROTOCOL or SERVICE:PROTOCOL (tcp, udp, sctp, dccp), e.g. "22:tcp"',
        '.customizations.firewall.ports[1]: invalid firewall port "70000:tcp": write PORT:PROTOCOL, PORT-PORT:PROTOCOL or SERVICE:PROTOCOL (tcp, udp, sctp, dccp), e.g. "22:tcp"; ports are 1 to 65535',
        '.customizations.firewall.ports[2]: invalid firewall port "90-80:tcp": write PORT:PROTOCOL, PORT-PORT:PROTOCOL or SERVICE:PROTOCOL (tcp, udp, sctp, dccp), e.g. "22:tcp"; the range is reversed',
        '.customizations.services.enabled[0]: invalid systemd unit name "a b"',
        '.customizations.partitioning_mode: expected one of "raw", "lvm", "auto-lvm", "btrfs", got a string ("zfs")',
      ],
    );
  });

  it('checks filesystems, disks and partitions', () => {
    assert.deepEqual(
      problems(
        withCustomizations({
          filesystem: [
            { mountpoint: 'var', minsize: 1 },
            { mountpoint: '/a', size: 1, minsize: 2 },
            { mountpoint: '/b' },
            { mountpoint: '/c', minsize: '2 GB!' },
            { mountpoint: '/d', minsize: '2 XB' },
            { mountpoint: '/e', minsize: 0 },
            { mountpoint: '/f', minsize: true },
          ],
          disk: {
            type: 'mbr',
            sector_size: 1000,
            partitions: [
              { type: 'zfs', minsize: 1 },
              { mountpoint: '/' },
              'p',
              { type: 'btrfs', minsize: 1, subvolumes: [{}] },
            ],
          },
        }),
      ),
      [
        '.customizations.filesystem[0].mountpoint: path "var" must be absolute',
        '.customizations.filesystem[1].size: size and minsize cannot both be set (size is an alias for minsize)',
        '.customizations.filesystem[2].minsize: minsize is required',
        '.customizations.filesystem[3].minsize: "2 GB!" is not a size (write a number of bytes or e.g. "2 GiB")',
        '.customizations.filesystem[4].minsize: unknown size unit "XB" in "2 XB" (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)',
        '.customizations.filesystem[5].minsize: minsize must be greater than 0',
        '.customizations.filesystem[6].minsize: expected a size (a number of bytes or a string like "2 GiB") for minsize, got a boolean (true)',
        '.customizations.disk.type: expected one of "gpt", "dos", got a string ("mbr")',
        '.customizations.disk.partitions[0].type: unknown partition type "zfs" (use "plain", "lvm" or "btrfs")',
        '.customizations.disk.partitions[1].minsize: minsize is required',
        '.customizations.disk.partitions[2]: expected a table, got a string ("p")',
        '.customizations.disk.partitions[3].subvolumes[0].name: required (a string)',
        '.customizations.disk.sector_size: sector_size must be a power of 2, got 1000',
      ],
    );
  });

  it('checks directories and files', () => {
    assert.deepEqual(
      problems(
        withCustomizations({
          directories: [
            { path: '/etc/x/', user: -1, group: 'bad group', mode: '0999' },
            { path: '/etc//x', user: true },
          ],
          files: [
            { path: '/etc/../x', mode: 644 },
            { path: '/etc/y', data: 'a', uri: 'https://example.org/y' },
          ],
        }),
      ),
      [
        '.customizations.directories[0].path: path "/etc/x/" must not end with "/"',
        '.customizations.directories[0].user: user ID must not be negative, got -1',
        '.customizations.directories[0].group: invalid group name "bad group": up to 32 letters, digits, "_", "." and "-", not starting with "-"',
        '.customizations.directories[0].mode: invalid mode "0999": must be an octal number such as "0644" or "755"',
        '.customizations.directories[1].path: path "/etc//x" must be canonical (no "//", "." or "..")',
        '.customizations.directories[1].user: expected a user name or a numeric ID, got a boolean (true)',
        '.customizations.files[0].path: path "/etc/../x" must be canonical (no "//", "." or "..")',
        '.customizations.files[0].mode: expected a string, got an integer (644)',
        '.customizations.files[1].uri: data and uri are mutually exclusive',
      ],
    );
  });

  it('checks repositories', () => {
    assert.deepEqual(
      problems(
        withCustomizations({
          repositories: [
            { id: 'no uri' },
            { id: 'both', uri: 'https://a.example/', baseurls: ['https://b.example/'] },
            { id: 'bad', uri: 'ftp//x', suites: ['../x'], components: ['a b'], signed_by: 'key' },
            { id: 'flat', uri: 'https://a.example/', suites: ['./'], components: ['main'], gpgkeys: ['k'] },
          ],
        }),
      ),
      [
        '.customizations.repositories[0].id: invalid repository id "no uri": use letters, digits, ".", "_" and "-"',
        '.customizations.repositories[0].uri: repository "no uri" needs "uri" (or composer\'s "baseurls")',
        '.customizations.repositories[1].baseurls: repository "both": give "uri" or "baseurls", not both',
        '.customizations.repositories[2].uri: invalid repository URI "ftp//x" (http, https, ftp or file URL)',
        '.customizations.repositories[2].suites[0]: invalid suite "../x" (e.g. "bookworm", "bookworm-updates", or "./" for a flat repository)',
        '.customizations.repositories[2].components[0]: invalid component "a b"',
        '.customizations.repositories[2].signed_by: signed_by must be an absolute path to a keyring, an ASCII-armoured key ("-----BEGIN PGP PUBLIC KEY BLOCK-----" … "-----END PGP PUBLIC KEY BLOCK-----") or key fingerprints',
        '.customizations.repositories[3].gpgkeys[0]: each of gpgkeys must be a URL, an absolute path or an ASCII-armoured key',
        '.customizations.repositories[3].components: repository "flat": a flat repository (suite "./") takes no components',
      ],
    );
    assert.deepEqual(problems(withCustomizations({ repositories: [{ id: 'r', suites: ['bookworm'] }] })), [
      '.customizations.repositories[0].uri: repository "r" needs "uri" (or composer\'s "baseurls")',
    ]);
  });

  it('refuses new lines, control characters and overlong values in every repository field', () => {
    // Each would become a line of its own in apt's sources file ("Trusted: yes" injected).
    const inject = '\nTrusted: yes';
    const key = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGQ=\n-----END PGP PUBLIC KEY BLOCK-----\n';
    const base = { id: 'r', uri: 'https://a.example/debian' };
    const cases: [Record<string, unknown>, string][] = [
      [
        { uri: `https://a.example/debian${inject}` },
        'uri: invalid repository URI "https://a.example/debian\\nTrusted: yes": white space or control characters',
      ],
      [
        { uri: 'https://a.example/\tx' },
        'uri: invalid repository URI "https://a.example/\\tx": white space or control characters',
      ],
      [
        { uri: undefined, baseurls: [`http://b.example/${inject}`] },
        'baseurls[0]: invalid repository URI "http://b.example/\\nTrusted: yes": white space or control characters',
      ],
      [
        { uri: `https://a.example/${'x'.repeat(2048)}` },
        'uri: repository URI too long: 2066 characters, at most 2048 allowed',
      ],
      [
        { suites: [`bookworm${inject}`] },
        'suites[0]: invalid suite "bookworm\\nTrusted: yes" (e.g. "bookworm", "bookworm-updates", or "./" for a flat repository)',
      ],
      [{ components: [`main${inject}`] }, 'components[0]: invalid component "main\\nTrusted: yes"'],
      [{ components: ['m'.repeat(101)] }, `components[0]: invalid component "${'m'.repeat(100)}"`],
      [
        { signed_by: `/usr/share/keyrings/k.gpg${inject}` },
        'signed_by: keyring path "/usr/share/keyrings/k.gpg\\nTrusted: yes" has white space or control characters',
      ],
      [
        { signed_by: `${key}Trusted: yes\n` },
        'signed_by: a key block must be ASCII-armoured ("-----BEGIN PGP PUBLIC KEY BLOCK-----" … "-----END PGP PUBLIC KEY BLOCK-----") with nothing before or after',
      ],
      [
        { gpgkeys: [`https://a.example/key${inject}`] },
        'gpgkeys[0]: invalid repository URI "https://a.example/key\\nTrusted: yes": white space or control characters',
      ],
      [
        { gpgkeys: [`/k.gpg${inject}`] },
        'gpgkeys[0]: keyring path "/k.gpg\\nTrusted: yes" has white space or control characters',
      ],
      [{ name: `Extra${inject}` }, 'name: repository name must be one line without control characters'],
      [
        { filename: `x.list${inject}` },
        'filename: repository filename must be one line without control characters',
      ],
      [
        { id: `r${inject}` },
        'id: invalid repository id "r\\nTrusted: yes": use letters, digits, ".", "_" and "-"',
      ],
      [{ id: 'r'.repeat(101) }, 'id: repository id too long: 101 characters, at most 100 allowed'],
      [{ architectures: [`amd64${inject}`] }, 'architectures[0]: invalid architecture "amd64\nTrusted: yes"'],
    ];
    for (const [fields, problem] of cases) {
      const repo = Object.fromEntries(
        Object.entries({ ...base, ...fields }).filter(([, v]) => v !== undefined),
      );
      assert.deepEqual(problems(withCustomizations({ repositories: [repo] })), [
        `.customizations.repositories[0].${problem}`,
      ]);
    }
    // What is right stays right: an armoured key (CRLF too), fingerprints, a keyring path.
    for (const signed_by of [
      key,
      key.replaceAll('\n', '\r\n'),
      `${'A'.repeat(40)} ${'b'.repeat(40)}`,
      '/k.gpg',
    ]) {
      assert.ok(checkBlueprint(withCustomizations({ repositories: [{ ...base, signed_by }] })).ok, signed_by);
    }
  });

  it('checks the other customizations', () => {
    assert.deepEqual(
      problems(
        withCustomizations({
          ignition: { firstboot: { url: 'http://x.example/', empty: true } },
          sshd: { permit_root_login: 'sometimes', client_alive_interval: -1 },
          installer: { kickstart: {} },
          firstboot: { scripts: [{ type: 'puppet' }] },
          'containers-storage': { 'destination-path': 'relative' },
          installation_device: 'vda',
        }),
      ),
      [
        '.customizations.installation_device: "vda" is not an absolute path',
        '.customizations.ignition.firstboot: ignition.firstboot.url is mutually exclusive with ignition.firstboot.empty',
        '.customizations.installer.kickstart.contents: required (a string)',
        '.customizations.containers-storage.destination-path: "relative" is not an absolute path',
        '.customizations.firstboot.scripts[0].type: expected one of "custom", "satellite", "aap", got a string ("puppet")',
        '.customizations.sshd.client_alive_interval: client_alive_interval must not be negative, got -1',
        '.customizations.sshd.permit_root_login: unexpected value: a string ("sometimes")',
      ],
    );
  });

  it('throws a BlueprintError with every issue from validateBlueprint', () => {
    assert.throws(
      () => validateBlueprint({ name: 'a b', version: 'x' }),
      (e: unknown) => {
        assert.ok(e instanceof BlueprintError);
        assert.equal(e.code, 'FORGE_ERR_BLUEPRINT_INVALID');
        assert.deepEqual(
          e.issues.map((i) => i.path),
          [['name'], ['version']],
        );
        assert.equal(
          e.message,
          'invalid blueprint (2 problems):\n' +
            '.name: invalid blueprint name "a b": use only letters, digits, ".", "_" and "-"\n' +
            '.version: Invalid \'version\', must use Semantic Versioning: "x" is not in dotted-tri format (MAJOR.MINOR.PATCH)',
        );
        return true;
      },
    );
    assert.throws(() => validateBlueprint({ name: '' }), {
      message: 'invalid blueprint: .name: empty blueprint name not allowed',
    });
  });

  it('rejects what is not a table at all', () => {
    assert.deepEqual(problems(null), ['.: expected a table, got null']);
    assert.deepEqual(problems([]), ['.: expected a table, got a list']);
  });
});
