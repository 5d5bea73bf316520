/** `org.osbuild.ext4`: a ext4 file system of a device. */
import { filesystemMount } from './filesystem.ts';

export default filesystemMount('org.osbuild.ext4', 'ext4');
