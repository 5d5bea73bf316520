/**
 * The build root of a manifest: the tools its stages run, as Debian packages of the target distro,
 * so that an image is made by the same tool versions on any host (and a trixie image by trixie's
 * tools). It is installed like the image's own packages (debootstrap of the minbase system, then apt
 * layers) into the `build` pipeline, which every other pipeline names.
 *
 * Two apt layers: the tools every manifest needs (Node.js for our stages, the package stages'
 * tools), then those of the stages this manifest's pipelines use. The first layer's tree is shared
 * by every image type of a distro in the object store; the second makes one build root per tool set.
 */
import type { PipelineDesc } from './image-type.ts';
import type { LayerRequest } from './types.ts';

/** The name of the build pipeline, as the other pipelines name it (`name:build`). */
export const BUILD_PIPELINE = 'build';

/**
 * The Debian packages whose programs a stage runs in the build root, beyond the minbase system
 * (coreutils, tar, gzip, util-linux, passwd …, which are listed anyway where a stage runs them).
 * A stage type absent here runs nothing but Node.js.
 */
export const STAGE_TOOLS: Readonly<Record<string, readonly string[]>> = {
  // mmdebstrap, apt-ftparchive for the temporary repository, unshare for the private mount namespace
  'org.osbuild.debootstrap': ['mmdebstrap', 'apt-utils', 'util-linux'],
  // apt-get, apt-ftparchive, and bwrap: dpkg and the kernel hooks run chrooted with /proc and /dev
  'org.osbuild.apt': ['apt', 'apt-utils', 'bubblewrap'],
  'org.osbuild.debian.source': ['dpkg-dev'],
  // the nested sandbox of the build (bwrap), and setpriv (util-linux) to drop to the build user
  'org.osbuild.sbuild': ['bubblewrap', 'util-linux', 'coreutils'],
  'org.osbuild.copy': ['coreutils'],
  'org.osbuild.chmod': ['coreutils'],
  'org.osbuild.truncate': ['coreutils'],
  'org.osbuild.users': ['passwd'],
  'org.osbuild.groups': ['passwd'],
  'org.osbuild.systemd-sysusers': ['systemd'],
  'org.osbuild.tar': ['tar', 'gzip', 'xz-utils', 'zstd', 'attr'],
  'org.osbuild.untar': ['tar', 'gzip', 'xz-utils', 'zstd'],
  'org.osbuild.gzip': ['gzip'],
  'org.osbuild.xz': ['xz-utils'],
  'org.osbuild.zstd': ['zstd'],
  'org.osbuild.sfdisk': ['fdisk'],
  'org.osbuild.mkfs.ext4': ['e2fsprogs'],
  'org.osbuild.mkfs.fat': ['dosfstools', 'mtools'],
  'org.osbuild.qemu': ['qemu-utils'],
  // GRUB's modules and font are copied from the build root into /boot/grub
  'org.osbuild.grub2': ['grub-common', 'grub-pc-bin', 'grub-efi-amd64-bin'],
  'org.osbuild.grub2.inst': ['grub-pc-bin', 'grub2-common'],
  'org.osbuild.grub2.efi': ['grub-efi-amd64-bin', 'grub2-common', 'mtools', 'dosfstools'],
  'org.osbuild.ostree.grub2.config': ['grub-common', 'grub-pc-bin', 'grub-efi-amd64-bin'],
  'org.osbuild.ostree.commit': ['ostree'],
  'org.osbuild.ostree.config': ['ostree'],
  'org.osbuild.ostree.deploy': ['ostree'],
  'org.osbuild.ostree.init': ['ostree'],
  'org.osbuild.ostree.init-fs': ['ostree'],
  'org.osbuild.ostree.os-init': ['ostree'],
  'org.osbuild.ostree.pull': ['ostree'],
  'org.osbuild.ostree.remotes': ['ostree'],
  // systemd-tmpfiles in a bwrap namespace that mounts the stateroot's /var
  'org.osbuild.ostree.fillvar': ['systemd', 'bubblewrap'],
  // chattr +i on the deployment
  'org.osbuild.ostree.post-copy': ['e2fsprogs'],
  // the kernel's initramfs and modules made chrooted in the tree
  'org.osbuild.ostree.preptree': ['bubblewrap'],
};

/**
 * The stages every `os` pipeline has, whose tools are in the layer every build root of a distro
 * shares (with Debian's Node.js, which runs our stages).
 */
const SHARED_STAGES = ['org.osbuild.debootstrap', 'org.osbuild.apt', 'org.osbuild.apt.config'];

/** The packages of the layer every build root shares. */
export const BUILD_ROOT_BASE: readonly string[] = [
  'nodejs',
  ...new Set(SHARED_STAGES.flatMap((t) => STAGE_TOOLS[t] ?? [])),
];

/** The tools of `stageTypes` that the shared layer lacks, sorted (so the set, not the order, counts). */
export function stageTools(stageTypes: Iterable<string>): string[] {
  const tools = new Set<string>();
  for (const t of stageTypes) for (const p of STAGE_TOOLS[t] ?? []) tools.add(p);
  for (const p of BUILD_ROOT_BASE) tools.delete(p);
  return [...tools].sort();
}

/** The package layers of the build root of `pipelines`: minbase, the shared tools, their own. */
export function buildRootLayers(pipelines: readonly PipelineDesc[]): LayerRequest[] {
  const types = pipelines.flatMap((p) => p.stages.map((s) => s.type));
  return [
    { packages: ['usr-is-merged'], base: 'minbase' },
    { packages: [...BUILD_ROOT_BASE] },
    { packages: stageTools(types) },
  ];
}
