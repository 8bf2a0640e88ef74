declare const __COSIGNKIT_VERSION__: string | undefined;

/** The package version, written in by tsup at build time (see tsup.config.ts). */
export const VERSION: string = typeof __COSIGNKIT_VERSION__ === 'string' ? __COSIGNKIT_VERSION__ : '0.0.0-dev';
