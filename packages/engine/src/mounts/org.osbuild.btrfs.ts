/** `org.osbuild.btrfs`: a Btrfs, with its subvolume and compression options file system of a device. */
import { filesystemMount } from './filesystem.ts';

export default filesystemMount('org.osbuild.btrfs', 'btrfs', {
  subvol: { type: 'string' },
  compress: { type: 'string' },
});
