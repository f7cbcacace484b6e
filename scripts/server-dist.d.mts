// Types of server-dist.mjs (plain JavaScript, see there) for the TypeScript that imports it (tests).
/** True when <root>/dist holds a build of exactly the sources in <root>/src (default: this checkout). */
export function serverDistFresh(root?: string): boolean;
/** Builds <root>/dist from <root>/src; the milliseconds it took. Throws when tsc fails. */
export function buildServerDist(root?: string): number;
