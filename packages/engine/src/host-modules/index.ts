/**
 * Host modules of the libdirs: a device, mount, input or source type the engine has no module of
 * its own for runs as the executable `<libdir>/{devices,mounts,inputs,sources}/<type>` of the first
 * libdir that has one, started as OSBuild starts it (service.ts). The engine's own modules stay
 * first: a libdir's module of the same name is never run.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { type LibdirIndex, MODULE_FOLDERS, type ModuleClass } from '@debian-forge/manifest';
import { relayInterpreter } from '../api/relay.ts';
import { type HostService, startHostService } from './service.ts';

export type { HostService } from './service.ts';

export type HostModuleClass = Exclude<ModuleClass, 'Stage'>;

/** A module `find` found: its executable and the libdir it is in. */
export interface FoundModule {
  exe: string;
  libdir: string;
}

export class HostModules {
  readonly #index: LibdirIndex;

  constructor(index: LibdirIndex) {
    this.#index = index;
  }

  /** The executable of a module of `klass` named `type`, or undefined when no libdir has one. */
  find(klass: HostModuleClass, type: string): FoundModule | undefined {
    const libdir = this.#index.libdirOf(klass, type);
    if (libdir === undefined) return undefined;
    const exe = join(libdir, MODULE_FOLDERS[klass], type);
    try {
      if (!statSync(exe).isFile()) return undefined;
      accessSync(exe, constants.X_OK);
    } catch {
      return undefined;
    }
    return { exe, libdir };
  }

  /**
   * Starts the module (found by `find`) as OSBuild's service `id`, with its libdir first on
   * PYTHONPATH, as OSBuild puts the `osbuild` package its modules import there.
   */
  async start(module: FoundModule, id: string, log: (line: string) => void): Promise<HostService> {
    const python = relayInterpreter();
    if (!python) throw new Error(`no python3 on the host to start the host module ${module.exe} with`);
    return startHostService(python, module.exe, {
      id,
      env: { PYTHONPATH: module.libdir, PYTHONUNBUFFERED: '1' },
      log,
    });
  }
}

/**
 * Starts a module and makes its one call (`open`, `mount`, `map`, `download`): the reply and the
 * running module, which holds what it opened until it is stopped. If the call fails the module is
 * stopped, and the error names the module with the message of its exception.
 */
export async function startAndCall(
  modules: HostModules,
  module: FoundModule,
  call: { id: string; method: string; args: unknown },
  log: (line: string) => void,
): Promise<{ reply: unknown; service: HostService }> {
  const service = await modules.start(module, call.id, log);
  try {
    return { reply: await service.call(call.method, call.args), service };
  } catch (err) {
    await service.stop().catch(() => {});
    throw err;
  }
}
