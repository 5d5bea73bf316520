/**
 * Requests for the property-based fuzzer of test/security-fuzz.test.ts, made with fast-check from the
 * checked-in OpenAPI document (openapi/forge.json): every operation it lists, with path parameters,
 * query strings and bodies drawn from values a client might send and values an attacker would
 * (traversal names, control characters, long strings, wrong types, deep nesting). Weldr's POST routes
 * read their bodies as text (JSON or TOML), so the document has no schema for them; their bodies come
 * from the blueprint, source and compose shapes below. Compose ids the service hands out in a run are
 * reused by later requests of the same run (the `KNOWN_UUID` placeholder), so the routes that need an
 * existing compose are reached too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toToml } from 'smol-toml';
import { REPO } from './engine.fixture.ts';

export interface FuzzRequest {
  via: 'socket' | 'tcp';
  method: string;
  /** The path with query string; `KNOWN_UUID` stands for a compose id seen earlier in the run. */
  path: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** The operation, as the document names it (`POST /api/v1/compose`). */
  operation: string;
}

export const KNOWN_UUID = '@KNOWN_UUID@';

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

/** Strings that have broken services of this kind: paths out, injections, encodings, sizes. */
const HOSTILE = [
  '',
  '.',
  '..',
  '../../../../../../etc/passwd',
  '/etc/passwd',
  'a/b',
  'a\nb',
  'a\r\nTrusted: yes',
  'a\u0000b',
  '\u0007',
  ' ',
  '*',
  ',',
  'a,b',
  '%2e%2e',
  '%00',
  '$(id)',
  '`id`',
  ';id',
  '<script>',
  'tree:///../../etc',
  'é',
  '\u{1F600}',
  'x'.repeat(256),
  'x'.repeat(5000),
  'NEWEST',
  'WORKSPACE',
];

const hostile = fc.constantFrom(...HOSTILE);
const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
/** A few names the generators share, so that one request of a run finds what another stored. */
const POOL = ['fuzz-a', 'fuzz-b', 'fuzz.c'];
const poolName = fc.constantFrom(...POOL);
const anyString = fc.oneof(
  { weight: 3, arbitrary: hostile },
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 4, arbitrary: poolName },
);
const name = fc.oneof({ weight: 4, arbitrary: poolName }, { weight: 2, arbitrary: anyString });
const uuidLike = fc.oneof(
  { weight: 4, arbitrary: fc.constant(KNOWN_UUID) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
  { weight: 2, arbitrary: anyString },
);
const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

/**
 * JSON text nested `depth` levels deep inside a field of an otherwise plain object: deeper than a
 * recursive parser or printer survives (JSON.stringify itself cannot make it).
 */
const deepJson = fc.integer({ min: 1000, max: 20_000 }).map((depth) => {
  const open = Array.from({ length: depth }, (_, i) => (i % 2 ? '[' : '{"a":')).join('');
  const close = Array.from({ length: depth }, (_, i) => (i % 2 ? ']' : '}'))
    .reverse()
    .join('');
  return `{"name":"fuzz-a","customizations":${open}1${close}}`;
});

const number = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1e12, 2 ** 53, 1.5, Number.MAX_SAFE_INTEGER),
  fc.constantFrom<unknown>(true, 'x', null, '1', [], {}),
);

const size = fc.oneof(
  fc.integer({ min: 0, max: 64 * 1024 ** 3 }),
  fc.constantFrom<unknown>(true, -1, 1e12, 1.5, '8 GiB', null, 'x'),
);

/** A blueprint as Weldr and the Cloud API take it: mostly sound, with hostile values in its fields. */
const blueprint = fc.record(
  {
    name,
    description: anyString,
    version: fc.oneof(fc.constantFrom('0.0.1', '1.2.3', ''), anyString),
    distro: fc.oneof(fc.constantFrom('debian-12', 'debian-13'), anyString),
    packages: fc.array(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('bash', 'curl', 'openssh-server', 'nginx'), anyString),
          version: fc.oneof(fc.constantFrom('*', ''), anyString),
        },
        { requiredKeys: ['name'] },
      ),
      { maxLength: 3 },
    ),
    customizations: fc.record(
      {
        hostname: anyString,
        user: fc.array(
          fc.record(
            {
              name: anyString,
              password: fc.oneof(fc.constant('plain-password'), anyString),
              key: anyString,
              groups: fc.array(anyString, { maxLength: 2 }),
              home: anyString,
              uid: number,
            },
            { requiredKeys: ['name'] },
          ),
          { maxLength: 2 },
        ),
        group: fc.array(fc.record({ name: anyString, gid: number }, { requiredKeys: ['name'] }), {
          maxLength: 2,
        }),
        kernel: fc.record({ append: anyString }),
        timezone: fc.record({ timezone: anyString, ntpservers: fc.array(anyString, { maxLength: 2 }) }),
        locale: fc.record({ languages: fc.array(anyString, { maxLength: 2 }), keyboard: anyString }),
        services: fc.record({ enabled: fc.array(anyString, { maxLength: 2 }) }),
        firewall: fc.record({ ports: fc.array(anyString, { maxLength: 2 }) }),
        filesystem: fc.array(fc.record({ mountpoint: anyString, minsize: size }), { maxLength: 2 }),
        directories: fc.array(fc.record({ path: anyString, mode: anyString }), { maxLength: 2 }),
        files: fc.array(fc.record({ path: anyString, data: anyString }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['name'] },
);

/** A blueprint the service must take: a pool name, real packages, plain customizations. */
const soundBlueprint = fc.record({
  name: poolName,
  version: fc.constantFrom('0.0.1', '1.0.0'),
  description: fc.constant('a blueprint of the fuzzer'),
  packages: fc.subarray([{ name: 'bash' }, { name: 'curl', version: '*' }]),
  customizations: fc.record(
    {
      hostname: fc.constant('fuzz'),
      user: fc.constant([{ name: 'fuzz', password: 'plain-password', groups: ['users'] }]),
      timezone: fc.constant({ timezone: 'UTC' }),
    },
    { requiredKeys: [] },
  ),
});
const anyBlueprint = fc.oneof(soundBlueprint, blueprint);

const soundSource = fc.record({
  id: poolName,
  name: poolName,
  type: fc.constant('deb'),
  url: fc.constant('http://127.0.0.1:9/debian'),
  suites: fc.constant(['bookworm']),
  components: fc.constant(['main']),
  check_gpg: fc.constant(false),
  check_ssl: fc.boolean(),
  distros: fc.constant(['debian-12']),
});

const source = fc.record(
  {
    id: name,
    name,
    type: fc.oneof(fc.constantFrom('deb', 'yum-baseurl'), anyString),
    url: fc.oneof(fc.constantFrom('http://127.0.0.1:9/debian', 'file:///nonexistent'), anyString),
    suites: fc.array(fc.oneof(fc.constant('bookworm'), anyString), { maxLength: 2 }),
    components: fc.array(fc.oneof(fc.constant('main'), anyString), { maxLength: 2 }),
    check_gpg: fc.oneof(fc.boolean(), anyJson),
    check_ssl: fc.oneof(fc.boolean(), anyJson),
    system: fc.boolean(),
    distros: fc.array(fc.oneof(fc.constant('debian-12'), anyString), { maxLength: 2 }),
    gpgkeys: fc.array(anyString, { maxLength: 1 }),
  },
  { requiredKeys: [] },
);

const imageType = fc.oneof(fc.constantFrom('tar', 'qcow2', 'raw', 'debian-atomic-commit'), anyString);

const soundWeldrCompose = fc.record({
  blueprint_name: poolName,
  compose_type: fc.constantFrom('tar', 'qcow2'),
  branch: fc.constant('master'),
});

const weldrCompose = fc.record(
  {
    blueprint_name: name,
    compose_type: imageType,
    branch: anyString,
    size,
    ostree: fc.record({ ref: anyString, parent: anyString, url: anyString }),
  },
  { requiredKeys: ['blueprint_name', 'compose_type'] },
);

/** A body as text: JSON mostly, TOML or nothing at times, with the content type that goes with it. */
function textBody(value: fc.Arbitrary<Record<string, unknown>>) {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: value.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json' })),
    },
    {
      weight: 2,
      arbitrary: value.map((v) => ({ body: tomlOf(v), contentType: 'text/x-toml' })),
    },
    {
      weight: 1,
      arbitrary: anyJson.map((v) => ({ body: JSON.stringify(v) ?? '', contentType: 'application/json' })),
    },
    { weight: 1, arbitrary: deepJson.map((body) => ({ body, contentType: 'application/json' })) },
    {
      weight: 1,
      arbitrary: fc.record({
        body: fc.string({ maxLength: 200 }),
        contentType: fc.constantFrom('text/x-toml', 'application/json', 'text/plain', ''),
      }),
    },
  );
}

function tomlOf(value: Record<string, unknown>): string {
  try {
    return toToml(value);
  } catch {
    return JSON.stringify(value);
  }
}

/** A value for an OpenAPI schema: what it asks for now and then, anything at other times. */
function fromSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => fromSchema(s, depth + 1)));
  if (schema.enum?.length) return fc.oneof(fc.constantFrom(...schema.enum), anyString);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  let own: fc.Arbitrary<unknown>;
  switch (type) {
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      own = fc.record(Object.fromEntries(props.map(([key, s]) => [key, fieldArbitrary(key, s, depth)])), {
        requiredKeys: (schema.required ?? []).filter((k) => props.some(([p]) => p === k)),
      });
      break;
    }
    case 'array':
      own = fc.array(fromSchema(schema.items, depth + 1), { maxLength: 3 });
      break;
    case 'string':
      own = anyString;
      break;
    case 'integer':
    case 'number':
      own = number;
      break;
    case 'boolean':
      own = fc.boolean();
      break;
    default:
      own = anyJson;
  }
  return fc.oneof({ weight: 8, arbitrary: own }, { weight: 1, arbitrary: anyJson });
}

/** Fields whose meaning the generators know better than the schema says. */
function fieldArbitrary(key: string, schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (key === 'blueprint' || key === 'customizations')
    return fc.oneof(blueprint, fromSchema(schema, depth + 1));
  if (key === 'distribution') return fc.oneof(fc.constantFrom('debian-12', 'debian-13'), anyString);
  if (key === 'image_type') return imageType;
  if (key === 'size') return size;
  if (key === 'manifest') return fc.oneof(manifest, fromSchema(schema, depth + 1));
  if (key === 'exports')
    return fc.array(fc.oneof(fc.constant('tree'), anyString), { minLength: 1, maxLength: 2 });
  if (key === 'filename') return fc.oneof(fc.constant('file'), anyString);
  return fromSchema(schema, depth + 1);
}

/** A manifest that validates, with names an attacker picks for its pipeline. */
const manifest = fc.record({ pipeline: fc.oneof(fc.constant('tree'), anyString) }).map(({ pipeline }) => ({
  version: '2',
  pipelines: [
    { name: pipeline, stages: [{ type: 'org.osbuild.mkdir', options: { paths: [{ path: '/x' }] } }] },
  ],
  sources: {},
}));

const soundCloudCompose = fc.record({
  distribution: fc.constantFrom('debian-12', 'debian-13'),
  image_request: fc.record({
    architecture: fc.constant('x86_64'),
    image_type: fc.constantFrom('tar', 'guest-image'),
    repositories: fc.constant([]),
  }),
  blueprint: soundBlueprint,
});

const soundManifestRequest = fc.record({
  manifest: manifest.filter((m) => m.pipelines[0]?.name === 'tree'),
  exports: fc.constant(['tree']),
  filename: fc.constant('x'),
  priority: fc.integer({ min: 1, max: 100 }),
});

/**
 * The value of a path parameter, by its name in the document. `*` (every package) is left out of
 * the package routes: it is a valid request, but one that reads the whole archive's index, and the
 * tests of packages/apt cover it.
 */
function pathParam(param: string, operation: string): fc.Arbitrary<string> {
  switch (param) {
    case 'uuid':
    case 'uuids':
    case 'id':
      return fc.oneof(
        uuidLike,
        fc.array(uuidLike, { minLength: 2, maxLength: 3 }).map((l) => l.join(',')),
      );
    case 'commit':
    case 'from':
    case 'to':
      return fc.oneof(fc.constantFrom('NEWEST', 'WORKSPACE'), hex(40), anyString);
    case 'names':
    case 'sources':
      return fc.oneof(
        name,
        fc.array(name, { minLength: 2, maxLength: 3 }).map((l) => l.join(',')),
        fc.constant(/\/(projects|modules)\//.test(operation) ? 'fuzz-a' : '*'),
      );
    default:
      return name;
  }
}

/** Weldr's query parameters, sent to every Weldr route now and then. */
const weldrQuery = fc.record(
  {
    limit: fc.oneof(fc.constantFrom('0', '20', '-1', '1e9', 'x'), anyString),
    offset: fc.oneof(fc.constantFrom('0', '-1', 'x'), anyString),
    format: fc.oneof(fc.constantFrom('json', 'toml'), anyString),
    distro: fc.oneof(fc.constantFrom('debian-12', 'debian-13'), anyString),
    arch: fc.oneof(fc.constant('x86_64'), anyString),
  },
  { requiredKeys: [] },
);

/** What Node's HTTP client lets through as a header value (it throws on the rest). */
function headerSafe(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

function encodeParam(value: string): fc.Arbitrary<string> {
  // Mostly encoded as a client would; now and then the bytes as they are, where HTTP allows it.
  const raw = /^[\x21-\x7e]*$/.test(value) && !/[?#]/.test(value);
  return raw ? fc.constantFrom(encodeURIComponent(value), value) : fc.constant(encodeURIComponent(value));
}

function queryString(entries: [string, string][]): string {
  if (entries.length === 0) return '';
  return `?${entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** The routes that never end by themselves (an event stream) and routes a fuzzer must leave alone. */
const LEFT_OUT = new Set(['GET /api/forge/v1/events']);

/** The operations that store something, drawn more often so that runs have something to sweep. */
const STORING =
  /^POST \/api\/(v[01]\/(blueprints\/(new|workspace)|projects\/source\/new|compose)|image-builder-composer\/v2\/compose|forge\/v1\/manifests)$/;

/** A request to any operation of the OpenAPI document. */
export function requestArbitrary(): fc.Arbitrary<FuzzRequest> {
  const doc = JSON.parse(readFileSync(join(REPO, 'openapi', 'forge.json'), 'utf8')) as {
    paths: Record<string, Record<string, Operation>>;
  };
  const out: fc.WeightedArbitrary<FuzzRequest>[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [lower, op] of Object.entries(methods)) {
      const method = lower.toUpperCase();
      const operation = `${method} ${template}`;
      if (LEFT_OUT.has(operation)) continue;
      const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const pathArb = fc
        .tuple(...params.map((p) => pathParam(p, operation).chain(encodeParam)))
        .map((values) =>
          params.reduce((path, p, i) => path.replace(`{${p}}`, values[i] as string), template),
        );
      const queryArb = template.startsWith('/api/v')
        ? fc
            .tuple(weldrQuery, testQuery(operation))
            .map(([q, t]) => [...Object.entries(q), ...t] as [string, string][])
        : fc
            .tuple(
              ...query.map((q) =>
                fc.option(
                  anyString.map((v) => [q, v] as [string, string]),
                  { nil: undefined },
                ),
              ),
            )
            .map((l) => l.filter((e): e is [string, string] => e !== undefined));
      const bodyArb = bodyFor(operation, op);
      out.push({
        weight: STORING.test(operation) ? 6 : 1,
        arbitrary: fc
          .record({
            via: fc.constantFrom<'socket' | 'tcp'>('socket', 'socket', 'tcp'),
            path: pathArb,
            query: queryArb,
            body: bodyArb,
          })
          .map(({ via, path, query: q, body }) => ({
            via,
            method,
            path: `${path}${queryString(q)}`,
            ...(body ?? {}),
            operation,
          })),
      });
    }
  }
  return fc.oneof(...out);
}

/**
 * Weldr's compose start always gets `?test=`: 1 or 2 (fake composes, no apt, no build) or a value
 * the service must refuse. A real compose would plan with apt against the mirror for every run.
 */
function testQuery(operation: string): fc.Arbitrary<[string, string][]> {
  if (!/^POST \/api\/v[01]\/compose$/.test(operation)) return fc.constant([]);
  return fc
    .oneof(fc.constantFrom('1', '2'), fc.constantFrom('3', '0', 'abc', '', '1 ', '01'))
    .map((t) => [['test', t]]);
}

function bodyFor(
  operation: string,
  op: Operation,
): fc.Arbitrary<{ body: string; contentType: string; headers?: Record<string, string> } | undefined> {
  if (/blueprints\/(new|workspace)$/.test(operation)) return textBody(anyBlueprint);
  if (/projects\/source\/new$/.test(operation)) return textBody(fc.oneof(soundSource, source));
  if (/^POST \/api\/v[01]\/compose$/.test(operation))
    return textBody(fc.oneof(soundWeldrCompose, weldrCompose));
  // Sound Cloud composes are made rare: each one plans with apt in the background.
  if (operation === 'POST /api/image-builder-composer/v2/compose') return jsonBody(op, soundCloudCompose, 1);
  if (operation === 'POST /api/forge/v1/manifests') return jsonBody(op, soundManifestRequest);
  if (operation === 'PUT /api/forge/v1/composes/{uuid}/artifact') return artifactBody;
  return jsonBody(op);
}

const artifactBody = fc.record({
  body: fc.string({ maxLength: 64 }),
  contentType: fc.constant('application/octet-stream'),
  headers: fc.record({
    'x-forge-sha256': fc.oneof(hex(64), anyString.filter(headerSafe)),
  }),
});

/** A JSON body from the operation's schema, or a sound one when given (`soundWeight` in 18). */
function jsonBody(
  op: Operation,
  sound?: fc.Arbitrary<unknown>,
  soundWeight = 8,
): fc.Arbitrary<{ body: string; contentType: string; headers?: Record<string, string> } | undefined> {
  const schema = op.requestBody?.content?.['application/json']?.schema;
  if (schema) {
    return fc.oneof(
      ...(sound
        ? [
            {
              weight: soundWeight,
              arbitrary: sound.map((v) => ({ body: JSON.stringify(v), contentType: 'application/json' })),
            },
          ]
        : []),
      {
        weight: 8,
        arbitrary: fromSchema(schema).map((v) => ({
          body: JSON.stringify(v) ?? 'null',
          contentType: 'application/json',
        })),
      },
      {
        weight: 1,
        arbitrary: fc.string({ maxLength: 100 }).map((s) => ({ body: s, contentType: 'application/json' })),
      },
      { weight: 1, arbitrary: deepJson.map((body) => ({ body, contentType: 'application/json' })) },
    );
  }
  return fc.constant(undefined);
}
