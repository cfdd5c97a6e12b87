/**
 * The few Reflect metadata functions that tsyringe (inside @peculiar/x509) demands at load
 * time. `reflect-metadata` is not among our dependencies; if it (or another polyfill) is
 * already loaded, this does nothing.
 */
type MetaMap = Map<string | symbol, Map<unknown, unknown>>;

const R = Reflect as unknown as Record<string, unknown>;

if (typeof R.getMetadata !== 'function') {
  const store = new WeakMap<object, MetaMap>();
  const own = (target: object, prop: string | symbol | undefined, create: boolean): Map<unknown, unknown> | undefined => {
    let byProp = store.get(target);
    if (!byProp) {
      if (!create) return undefined;
      store.set(target, (byProp = new Map()));
    }
    const key = prop ?? '';
    let m = byProp.get(key);
    if (!m && create) byProp.set(key, (m = new Map()));
    return m;
  };
  const getOwnMetadata = (key: unknown, target: object, prop?: string | symbol) => own(target, prop, false)?.get(key);
  const hasOwnMetadata = (key: unknown, target: object, prop?: string | symbol) => own(target, prop, false)?.has(key) ?? false;
  const getMetadata = (key: unknown, target: object, prop?: string | symbol): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      if (hasOwnMetadata(key, t, prop)) return getOwnMetadata(key, t, prop);
    }
    return undefined;
  };
  const defineMetadata = (key: unknown, value: unknown, target: object, prop?: string | symbol) => {
    own(target, prop, true)!.set(key, value);
  };
  Object.assign(R, {
    getOwnMetadata,
    hasOwnMetadata,
    getMetadata,
    hasMetadata: (key: unknown, target: object, prop?: string | symbol) => getMetadata(key, target, prop) !== undefined,
    defineMetadata,
    metadata: (key: unknown, value: unknown) => (target: object, prop?: string | symbol) => defineMetadata(key, value, target, prop),
  });
}

export {};
