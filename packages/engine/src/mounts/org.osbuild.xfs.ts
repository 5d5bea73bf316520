/** `org.osbuild.xfs`: a XFS file system of a device. */
import { filesystemMount } from './filesystem.ts';

export default filesystemMount('org.osbuild.xfs', 'xfs');
