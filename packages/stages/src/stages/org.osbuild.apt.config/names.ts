/** Names the stage accepts, shared by its schema and its implementation. */

/** A file name stem: letters, digits, `_`, `-` and `.`, not starting with `.`, no `..` (apt ignores other names). */
export const STEM = /^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
/** A keyring file name: a stem ending in .asc (armoured) or .gpg (binary). */
export const KEYRING = /^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(asc|gpg)$/;
/** An apt configuration item name, as apt.conf(5) allows (parts joined by `::`). */
export const APT_KEY = /^[A-Za-z0-9/._+-]+(::[A-Za-z0-9/._+-]+)*$/;
