// `tertulia config`: the effective configuration (defaults < file < environment < options) as JSON, with
// every secret hidden.
import { redactNatsUrl } from '../../bus/nats-url.ts';
import { secretSettings, type Config } from '../../config/config.ts';

/** The configuration as printed by `tertulia config`: the secrets hidden (and the NATS URL's credentials). */
export function printableConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = secretSettings.has(k as keyof Config) && v ? '[secret]' : v;
  if (typeof out.natsUrl === 'string') out.natsUrl = redactNatsUrl(out.natsUrl, '[secret]@');
  return out;
}

export function runConfigCommand(config: Config): number {
  process.stdout.write(JSON.stringify(printableConfig(config), null, 2) + '\n');
  return 0;
}
