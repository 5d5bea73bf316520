/** OSBuild's pattern for a sysusers.d name (and for the group of an `m` line). */
export const SYSUSER_NAME = /^([a-z]+(?:[-_][a-zA-Z0-9_-]{0,30})?|-)$/;
