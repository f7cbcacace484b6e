// SIGHUP: the settings read again (defaults < file < environment < the same command-line options) and compared
// with those in effect. Those a running server applies live are applied; the others are named as needing a
// restart and stay as they are until then.
import type { Config } from './config.ts';

/**
 * Applied live: the log level, access (mode, guests, JWT issuers/audiences/keys, admin accounts: joins from
 * then on follow them), lastN (for meetings that start from then on), and the TURN secret (coturn restarts with it;
 * credentials handed out before stop working, browsers that join from then on get new ones).
 */
export const LIVE_SETTINGS: ReadonlySet<keyof Config> = new Set<keyof Config>([
  'logLevel',
  'authMode',
  'allowGuests',
  'jwtAppId',
  'jwtAcceptedIssuers',
  'jwtAudience',
  'jwtSecret',
  'jwtPublicKeys',
  'adminAccounts',
  'lastN',
  'turnSecret',
]);

export interface SettingsChange {
  /** Changed and applied now. */
  live: (keyof Config)[];
  /** Changed in the file, environment or options, but in effect only after a restart. */
  restart: (keyof Config)[];
  /** What is in effect now: the new values of the live settings, the old of the others. */
  effective: Config;
}

export function settingsChange(current: Config, next: Config): SettingsChange {
  const live: (keyof Config)[] = [];
  const restart: (keyof Config)[] = [];
  const effective = { ...current } as Record<keyof Config, unknown>;
  for (const key of Object.keys(next) as (keyof Config)[]) {
    if (JSON.stringify(current[key]) === JSON.stringify(next[key])) continue;
    if (LIVE_SETTINGS.has(key)) {
      live.push(key);
      effective[key] = next[key];
    } else {
      restart.push(key);
    }
  }
  return { live, restart, effective: effective as Config };
}
