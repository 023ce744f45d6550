/** The release version, printed by `sluice version` and the admin API. */
export const VERSION = '0.1.0';
