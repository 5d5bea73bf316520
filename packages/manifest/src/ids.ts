/**
 * Content ids exactly as OSBuild computes them: sha256 over a sequence of Python
 * `json.dumps(x, sort_keys=True)` texts. What enters each id:
 *  - Device: type, [parent id], options.
 *  - Mount: type, [device id], [partition if truthy], [target if truthy], options.
 *  - Input: type, origin, references (id → options), options. The input's name does not.
 *  - Stage: type, build pipeline id|null, previous stage id|null, options, [source-epoch],
 *    [{input name: input id}], [[mount id, …]]. Devices count only through mounts.
 *  - Pipeline: the id of its last stage.
 */
import { createHash } from 'node:crypto';
import type { Device, Input, JsonObject, Mount, Stage } from './model.ts';
import { orderedObject, pyDumps, pyTruthy } from './pyjson.ts';

function sha256OfDumps(parts: (string | null)[]): string {
  const h = createHash('sha256');
  for (const p of parts) if (p !== null) h.update(p);
  return h.digest('hex');
}

const J = (v: unknown): string => pyDumps(v, { sortKeys: true });

export function deviceId(type: string, parent: Device | null, options: JsonObject): string {
  return sha256OfDumps([J(type), parent ? J(parent.id) : null, J(options)]);
}

/** `partitionJson`: Python JSON text of a truthy partition number (it may be a float like `1.0`), else null. */
export function mountId(
  type: string,
  device: Device | null,
  partitionJson: string | null,
  target: string | null,
  options: JsonObject | null,
): string {
  return sha256OfDumps([
    J(type),
    device ? J(device.id) : null,
    partitionJson,
    pyTruthy(target) ? J(target) : null,
    J(options),
  ]);
}

export function inputId(
  type: string,
  origin: string,
  refs: Map<string, JsonObject>,
  options: JsonObject,
): string {
  return sha256OfDumps([J(type), J(origin), J(orderedObject([...refs])), J(options)]);
}

export function stageId(
  stage: Pick<Stage, 'type' | 'build' | 'base' | 'options' | 'sourceEpoch'>,
  inputs: ReadonlyMap<string, Input>,
  mounts: ReadonlyMap<string, Mount>,
): string {
  return sha256OfDumps([
    J(stage.type),
    J(stage.build),
    J(stage.base),
    J(stage.options),
    stage.sourceEpoch,
    inputs.size > 0 ? J(orderedObject([...inputs].map(([name, input]) => [name, input.id]))) : null,
    mounts.size > 0 ? J([...mounts.values()].map((m) => m.id)) : null,
  ]);
}
