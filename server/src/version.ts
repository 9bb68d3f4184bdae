declare const __CERTOPS_VERSION__: string | undefined;

/** The package version, injected by esbuild at build time. */
export const VERSION: string = typeof __CERTOPS_VERSION__ === 'string' ? __CERTOPS_VERSION__ : '0.0.0-dev';
