/** cosign writes N=65536 and reads these three (its "interactive", default and "high" presets), r=8, p=1. */
export const WRITE_N = 65536;
export const READ_N: ReadonlySet<number> = new Set([32768, 65536, 131072]);
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
// Node's default maxmem (32 MiB) is too small for N=131072, r=8 (128 MiB).
export const SCRYPT_MAXMEM = 256 * 1024 * 1024;
