// @peculiar/x509 uses tsyringe, which refuses to load without the Reflect metadata API. Loads the
// `reflect-metadata` package when it is installed (it is, through werift), else a minimal in-file version
// with just what tsyringe's decorators use. Import this module before '@peculiar/x509'.
import { createRequire } from 'node:module';

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  try {
    createRequire(import.meta.url)('reflect-metadata');
  } catch {
    const store = new WeakMap<object, Map<string | symbol | undefined, Map<unknown, unknown>>>();
    const bucket = (target: object, prop: string | symbol | undefined, create: boolean) => {
      let byProp = store.get(target);
      if (!byProp) {
        if (!create) return undefined;
        store.set(target, (byProp = new Map()));
      }
      let map = byProp.get(prop);
      if (!map && create) byProp.set(prop, (map = new Map()));
      return map;
    };
    const getOwn = (key: unknown, target: object, prop?: string | symbol) => bucket(target, prop, false)?.get(key);
    const get = (key: unknown, target: object, prop?: string | symbol): unknown => {
      for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
        const m = bucket(t, prop, false);
        if (m?.has(key)) return m.get(key);
      }
      return undefined;
    };
    const define = (key: unknown, value: unknown, target: object, prop?: string | symbol) => {
      bucket(target, prop, true)!.set(key, value);
    };
    Object.assign(R, {
      defineMetadata: define,
      getMetadata: get,
      getOwnMetadata: getOwn,
      hasMetadata: (key: unknown, target: object, prop?: string | symbol) => get(key, target, prop) !== undefined,
      hasOwnMetadata: (key: unknown, target: object, prop?: string | symbol) => bucket(target, prop, false)?.has(key) ?? false,
      metadata: (key: unknown, value: unknown) => (target: object, prop?: string | symbol) => define(key, value, target, prop),
    });
  }
}
