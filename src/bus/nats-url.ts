// NATS server addresses as given in settings: "nats://user:pass@host:4222,nats://host2" (or without scheme).
// Kept apart from the NATS client so `tertulia config` can show an address without loading the client.
// Credentials never appear in what these functions return for display or in their errors.

/**
 * A NATS server address as it may be logged or printed: the user, password or token taken out (or replaced
 * by `marker`, e.g. "[secret]@"). Everything up to the last "@" of each address is credentials (a host never
 * holds an "@"), so a password with "@" or "/" in it, or an address without "nats://", is hidden too.
 */
export function redactNatsUrl(url: string, marker = ''): string {
  return url
    .split(',')
    .map((one) => one.trim().replace(/^([a-z]+:\/\/)?[^]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}${marker}`))
    .join(',');
}

/** Splits "nats://user:pass@host:4222,nats://host2" into servers without credentials, and the credentials. */
export function parseNatsUrl(url: string): { servers: string[]; user?: string; password?: string; token?: string } {
  const out: { servers: string[]; user?: string; password?: string; token?: string } = { servers: [] };
  for (const raw of url.split(',')) {
    const one = raw.trim();
    if (!one) continue;
    const withScheme = /^[a-z]+:\/\//i.test(one) ? one : `nats://${one}`;
    const hint = one.includes('@')
      ? '; percent-encode "/", "@" or ":" in a user name or password, or give them as natsUser/natsPassword'
      : '';
    let parsed: URL;
    try {
      parsed = new URL(withScheme);
    } catch {
      throw new Error(`not a NATS server address: "${redactNatsUrl(one)}" (expected nats://host:port${hint})`);
    }
    if (!/^(nats|tls):$/.test(parsed.protocol)) {
      throw new Error(`not a NATS server address: "${redactNatsUrl(one)}" (expected nats://host:port or tls://host:port)`);
    }
    if (!parsed.hostname) throw new Error(`not a NATS server address: "${redactNatsUrl(one)}" (no host${hint})`);
    if (parsed.username && parsed.password) {
      out.user ??= decodeURIComponent(parsed.username);
      out.password ??= decodeURIComponent(parsed.password);
    } else if (parsed.username) {
      out.token ??= decodeURIComponent(parsed.username);
    }
    out.servers.push(`${parsed.protocol}//${parsed.host}`);
  }
  if (out.servers.length === 0) throw new Error('no NATS server address given');
  return out;
}
