/** `org.osbuild.fat`: a FAT (vfat), with its owner, mask and short-name options file system of a device. */
import { filesystemMount } from './filesystem.ts';

export default filesystemMount('org.osbuild.fat', 'vfat', {
  uid: { type: 'integer' },
  gid: { type: 'integer' },
  umask: { type: 'string' },
  shortname: { type: 'string' },
});
