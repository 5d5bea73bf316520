/** The version of Debian Forge that `forge --version` and the API's /api/status report. */
export const VERSION = '0.1.0';
