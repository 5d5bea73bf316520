/**
 * A loaded manifest described back as JSON, as OSBuild's `describe(manifest, with_id=True)` does for
 * `osbuild --inspect`: pipeline references become ids, every stage gets its `id`, empty parts are
 * left out, and the key order is OSBuild's. Printed with `pyDumps`, the text equals OSBuild's.
 * Like OSBuild, it leaves out `source-epoch`, device parents and source options.
 */
import type { Manifest, Mount, Pipeline, Stage } from './model.ts';
import { orderedObject, pyTruthy, setWithForm } from './pyjson.ts';

export interface DescribeOptions {
  /** Runner name shown for a build pipeline that names none (OSBuild shows the host's runner). */
  hostRunner: string;
}

export function describeManifest(manifest: Manifest, options: DescribeOptions): Record<string, unknown> {
  // In OSBuild a build pipeline's runner is recorded on the pipelines it builds; undo that pairing.
  // Pipelines with equal ids are one entry in OSBuild's map by id: the last of them gives the runner.
  const runners = new Map<string, string>();
  for (const p of manifest.pipelines) {
    if (!p.build) continue;
    const build = manifest.pipelines.findLast((b) => b.id === p.build);
    runners.set(p.build, build?.runner ?? options.hostRunner);
  }
  const out: Record<string, unknown> = {
    version: '2',
    pipelines: manifest.pipelines.map((p) => describePipeline(p, runners)),
  };
  if (pyTruthy(manifest.metadata)) out.metadata = manifest.metadata;
  if (manifest.sources.length > 0) {
    out.sources = orderedObject(manifest.sources.map((s) => [s.type, { items: s.items }]));
  }
  return out;
}

function describePipeline(p: Pipeline, runners: Map<string, string>): Record<string, unknown> {
  const desc: Record<string, unknown> = { name: p.name };
  if (p.build) desc.build = p.build;
  const runner = p.id !== null ? runners.get(p.id) : undefined;
  if (runner) desc.runner = runner;
  if (p.stages.length > 0) desc.stages = p.stages.map(describeStage);
  return desc;
}

function describeStage(s: Stage): Record<string, unknown> {
  const desc: Record<string, unknown> = { type: s.type, id: s.id };
  if (pyTruthy(s.options)) desc.options = s.options;
  if (s.devices.size > 0) {
    desc.devices = orderedObject(
      [...s.devices].map(([name, d]) => [
        name,
        pyTruthy(d.options) ? { type: d.type, options: d.options } : { type: d.type },
      ]),
    );
  }
  if (s.mounts.size > 0) desc.mounts = [...s.mounts.values()].map(describeMount);
  if (s.inputs.size > 0) {
    desc.inputs = orderedObject(
      [...s.inputs].map(([name, ip]) => {
        const d: Record<string, unknown> = { type: ip.type, origin: ip.origin };
        if (pyTruthy(ip.options)) d.options = ip.options;
        if (ip.refs.size > 0) d.references = orderedObject([...ip.refs]);
        return [name, d];
      }),
    );
  }
  return desc;
}

function describeMount(m: Mount): Record<string, unknown> {
  const desc: Record<string, unknown> = { name: m.name, type: m.type, target: m.target };
  if (m.device) desc.source = m.device.name;
  if (pyTruthy(m.options)) desc.options = m.options;
  if (pyTruthy(m.partition) && m.partitionJson)
    setWithForm(desc, 'partition', m.partition as number, m.partitionJson);
  return desc;
}
