// `tertulia config`: the effective configuration (defaults < file < environment < options) as JSON, with
// every secret hidden.
import { redactNatsUrl } from '../../bus/nats-url.ts';
import type { Config } from '../../config/config.ts';

/** The configuration as printed by `tertulia config`: nothing that looks like a secret. */
export function printableConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = /secret|password|token|jwt/i.test(k) && v ? '[secret]' : v;
  if (typeof out.natsUrl === 'string') out.natsUrl = redactNatsUrl(out.natsUrl, '[secret]@');
  return out;
}

export function runConfigCommand(config: Config): number {
  process.stdout.write(JSON.stringify(printableConfig(config), null, 2) + '\n');
  return 0;
}
