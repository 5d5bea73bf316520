import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlueprintError, formatIssue } from './errors.ts';
import { FULL_BLUEPRINT, FULL_JSON, FULL_TOML } from './examples.fixture.ts';
import { detectFormat, parseBlueprint, parseBlueprintText, parseDocument, toJson, toToml } from './format.ts';
import { validateBlueprint } from './schema.ts';

/** The BlueprintError that `fn` throws. */
function caught(fn: () => unknown): BlueprintError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BlueprintError, `expected a BlueprintError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('parseBlueprint', () => {
  it('reads TOML that uses every key', () => {
    const bp = parseBlueprint(FULL_TOML, 'toml');
    assert.equal(JSON.stringify(bp), JSON.stringify(FULL_BLUEPRINT));
  });

  it('reads the same blueprint from JSON', () => {
    assert.deepEqual(parseBlueprint(FULL_JSON, 'json'), parseBlueprint(FULL_TOML, 'toml'));
  });

  it('detects the format from the first character', () => {
    assert.equal(detectFormat('  \n{"name": "x"}'), 'json');
    assert.equal(detectFormat('\uFEFF{"name": "x"}'), 'json');
    assert.equal(detectFormat('name = "x"'), 'toml');
    assert.equal(detectFormat('# {comment}\nname = "x"'), 'toml');
    assert.equal(parseBlueprint(FULL_JSON).name, 'everything');
    assert.equal(parseBlueprint(FULL_TOML).name, 'everything');
    assert.equal(parseBlueprint('\uFEFFname = "bom"').name, 'bom');
  });

  it('tells whether the text gave a version', () => {
    assert.deepEqual(parseBlueprintText('name = "a"'), {
      blueprint: validateBlueprint({ name: 'a' }),
      format: 'toml',
      versionGiven: false,
    });
    assert.equal(parseBlueprintText('name = "a"\nversion = ""').versionGiven, false);
    assert.equal(parseBlueprintText('{"name": "a", "version": "0.0.0"}').versionGiven, true);
    assert.equal(parseBlueprintText('{"name": "a", "version": "0.0.0"}').format, 'json');
  });

  it('drops JSON nulls as Go does and keeps TOML integers exact', () => {
    const bp = parseBlueprint(
      '{"name": "n", "description": null, "customizations": {"hostname": null, "kernel": {"append": "x"}}}',
    );
    assert.deepEqual(bp.customizations, { kernel: { append: 'x' } });
    assert.equal(bp.description, '');
    const big = parseBlueprint(
      'name = "b"\n[[customizations.filesystem]]\nmountpoint = "/"\nminsize = 8796093022208\n',
    );
    assert.equal(big.customizations?.filesystem?.[0]?.minsize, 8796093022208);
  });

  it('rejects unknown keys in TOML with their path', () => {
    const e = caught(() =>
      parseBlueprint(
        'name = "x"\n[customizations]\nhostnme = "h"\n[[customizations.user]]\nname = "a"\nsudo = true\n',
      ),
    );
    assert.equal(e.code, 'FORGE_ERR_BLUEPRINT_INVALID');
    assert.deepEqual(e.issues.map(formatIssue), [
      '.customizations.user[0].sudo: unknown key "sudo"',
      '.customizations.hostnme: unknown key "hostnme"',
    ]);
  });

  it('rejects TOML values no blueprint key takes', () => {
    const e = caught(() =>
      parseBlueprint(
        'name = "x"\n[[customizations.user]]\nname = "a"\nuid = 1000.0\nexpiredate = 2030-01-01\n',
      ),
    );
    assert.deepEqual(e.issues.map(formatIssue), [
      '.customizations.user[0].uid: expected an integer or a string, got the TOML float 1000',
      '.customizations.user[0].expiredate: expected a string, got the TOML date 2030-01-01',
    ]);
    const huge = caught(() =>
      parseBlueprint('name = "x"\n[[customizations.group]]\nname = "g"\ngid = 9223372036854775807\n'),
    );
    assert.deepEqual(huge.issues.map(formatIssue), [
      '.customizations.group[0].gid: integer 9223372036854775807 is too large',
    ]);
  });

  it('reports a "__proto__" key as unknown without touching prototypes', () => {
    const e = caught(() => parseBlueprint('name = "x"\n[__proto__]\npolluted = true\n'));
    assert.deepEqual(e.issues.map(formatIssue), ['.__proto__: unknown key "__proto__"']);
    const j = caught(() => parseBlueprint('{"name": "x", "__proto__": {"polluted": true}}'));
    assert.deepEqual(j.issues.map(formatIssue), ['.__proto__: unknown key "__proto__"']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('gives the line and column of TOML syntax errors', () => {
    const e = caught(() => parseBlueprint('name = "x"\n\n[customizations]\nhostname = "h\n', 'toml'));
    assert.equal(e.code, 'FORGE_ERR_BLUEPRINT_SYNTAX');
    assert.equal(e.line, 4);
    assert.equal(e.column, 14);
    assert.equal(
      e.message,
      'TOML syntax error at line 4, column 14: control characters are not allowed in strings',
    );
    const dup = caught(() => parseBlueprint('name = "x"\nname = "y"\n'));
    assert.equal(dup.line, 2);
    assert.match(dup.message, /^TOML syntax error at line 2, column \d+: /);
    const table = caught(() => parseBlueprint('name = "x"\n[customizations\n'));
    assert.equal(table.line, 2);
  });

  it('gives the line and column of JSON syntax errors', () => {
    const e = caught(() => parseBlueprint('{\n  "name": "x",\n  "version": ,\n}', 'json'));
    assert.equal(e.code, 'FORGE_ERR_BLUEPRINT_SYNTAX');
    assert.equal(e.line, 3);
    assert.equal(e.column, 14);
    assert.equal(e.message, 'JSON syntax error at line 3, column 14: expected a value, got ","');
    const end = caught(() => parseBlueprint('{"name": "x"', 'json'));
    assert.equal(
      end.message,
      'JSON syntax error at line 1, column 13: expected "," or "}", got end of input',
    );
    const trailing = caught(() => parseBlueprint('{"name": "x",\n}', 'json'));
    assert.equal(
      trailing.message,
      'JSON syntax error at line 2, column 1: expected a property name, got "}"',
    );
    const badEscape = caught(() => parseBlueprint('{"name": "\\x"}', 'json'));
    assert.equal(badEscape.message, 'JSON syntax error at line 1, column 12: bad escape in string');
    const notObject = caught(() => parseBlueprint('["x"]', 'json'));
    assert.equal(notObject.message, 'invalid blueprint: .: a blueprint must be a JSON object');
  });

  it('refuses JSON and TOML that nest deeper than 1000 levels, before anything recurses into them', () => {
    const deepJson = (n: number) => `{"name":"x","customizations":${'['.repeat(n)}${']'.repeat(n)}}`;
    // 999 arrays in the document's own object: 1000 levels, read (and refused as a blueprint).
    assert.equal(caught(() => parseBlueprint(deepJson(999), 'json')).code, 'FORGE_ERR_BLUEPRINT_INVALID');
    for (const n of [1000, 10_000, 100_000]) {
      const e = caught(() => parseBlueprint(deepJson(n), 'json'));
      assert.equal(e.code, 'FORGE_ERR_BLUEPRINT_SYNTAX');
      assert.equal(
        e.message,
        'JSON document nests objects and arrays deeper than 1000 levels (at line 1 column 1029 (char 1028))',
      );
    }
    // TOML nests through dotted keys and table headers too, beyond smol-toml's inline limit.
    const dotted = (n: number) => `name = "x"\n${Array.from({ length: n }, () => 'a').join('.')} = 1\n`;
    // 1000 keys: the document's table and 999 below it hold the value.
    assert.deepEqual(Object.keys(parseDocument(dotted(1000)) as object), ['name', 'a']);
    for (const text of [
      dotted(1001),
      dotted(20_000),
      `name = "x"\n[${Array.from({ length: 10_000 }, () => 'a').join('.')}]\nb = 1\n`,
      `name = "x"\nb = ${'['.repeat(1000)}${']'.repeat(1000)}\n`,
    ]) {
      const e = caught(() => parseDocument(text, 'toml'));
      assert.equal(e.code, 'FORGE_ERR_BLUEPRINT_SYNTAX');
      assert.equal(e.message, 'TOML document nests tables and arrays deeper than 1000 levels');
    }
  });

  it('parseDocument returns the raw document', () => {
    assert.deepEqual(parseDocument('name = "x"\nanything = 1\n'), { name: 'x', anything: 1 });
  });
});

describe('toToml', () => {
  it('prints as composer prints: plain keys, then tables; blank lines before top-level and array tables', () => {
    const bp = validateBlueprint({
      name: 'server',
      description: 'A "quoted" \\ description\twith\ncontrol characters\u0001',
      version: '0.0.3',
      packages: [{ name: 'openssh-server', version: '*' }, { name: 'curl' }],
      customizations: {
        hostname: 'forge-server',
        kernel: { append: 'console=ttyS0' },
        user: [{ name: 'forge', key: 'ssh-ed25519 AAAA', groups: ['sudo', 'users'], uid: 1000 }],
        firewall: { ports: ['22:tcp'], services: { enabled: ['http'] } },
        services: { enabled: ['ssh'] },
      },
    });
    assert.equal(
      toToml(bp),
      [
        'name = "server"',
        'description = "A \\"quoted\\" \\\\ description\\twith\\ncontrol characters\\u0001"',
        'version = "0.0.3"',
        'modules = []',
        'enabled_modules = []',
        'groups = []',
        'distro = ""',
        '',
        '[[packages]]',
        'name = "openssh-server"',
        'version = "*"',
        '',
        '[[packages]]',
        'name = "curl"',
        '',
        '[customizations]',
        'hostname = "forge-server"',
        '[customizations.kernel]',
        'append = "console=ttyS0"',
        '',
        '[[customizations.user]]',
        'name = "forge"',
        'key = "ssh-ed25519 AAAA"',
        'groups = ["sudo", "users"]',
        'uid = 1000',
        '[customizations.firewall]',
        'ports = ["22:tcp"]',
        '[customizations.firewall.services]',
        'enabled = ["http"]',
        '[customizations.services]',
        'enabled = ["ssh"]',
        '',
      ].join('\n'),
    );
  });

  it('prints a blueprint without packages or customizations with empty lists', () => {
    assert.equal(
      toToml(validateBlueprint({ name: 'empty' })),
      'name = "empty"\ndescription = ""\nversion = "0.0.0"\npackages = []\nmodules = []\nenabled_modules = []\ngroups = []\ndistro = ""\n',
    );
  });

  it('round-trips every key through TOML', () => {
    const bp = parseBlueprint(FULL_TOML);
    const text = toToml(bp);
    const again = parseBlueprint(text, 'toml');
    assert.deepEqual(again, bp);
    assert.equal(JSON.stringify(again), JSON.stringify(bp));
    assert.equal(toToml(again), text);
  });

  it('quotes keys that are not bare and omits an empty containers list', () => {
    const bp = validateBlueprint({ name: 'c', containers: [] });
    assert.doesNotMatch(toToml(bp), /containers/);
    assert.match(
      toToml(
        validateBlueprint({
          name: 'c',
          customizations: { 'containers-storage': { 'destination-path': '/x' } },
        }),
      ),
      /\[customizations\.containers-storage\]\ndestination-path = "\/x"/,
    );
  });
});

describe('toJson', () => {
  it('prints one line in composer key order, escaping HTML characters as Go does', () => {
    const bp = validateBlueprint({
      packages: [{ version: '>= 1.0', name: 'less' }],
      name: 'j',
      description: '<a & b>',
    });
    assert.equal(
      toJson(bp),
      '{"name":"j","description":"\\u003ca \\u0026 b\\u003e","version":"0.0.0","packages":[{"name":"less","version":"\\u003e= 1.0"}],"modules":[],"enabled_modules":[],"groups":[],"distro":""}\n',
    );
  });

  it('can indent and leave HTML characters alone', () => {
    const bp = validateBlueprint({ name: 'j', description: '<b>' });
    assert.equal(
      toJson(bp, { indent: 2, escapeHtml: false }),
      '{\n  "name": "j",\n  "description": "<b>",\n  "version": "0.0.0",\n  "packages": [],\n  "modules": [],\n  "enabled_modules": [],\n  "groups": [],\n  "distro": ""\n}\n',
    );
  });

  it('round-trips every key through JSON', () => {
    const bp = parseBlueprint(FULL_TOML);
    const again = parseBlueprint(toJson(bp), 'json');
    assert.deepEqual(again, bp);
    assert.equal(toJson(again), toJson(bp));
    assert.deepEqual(JSON.parse(toJson(bp)), FULL_BLUEPRINT);
  });

  it('round-trips TOML → JSON → TOML byte for byte', () => {
    const text = toToml(parseBlueprint(FULL_TOML));
    assert.equal(toToml(parseBlueprint(toJson(parseBlueprint(text)))), text);
  });
});
