// The `tertulia` command (./tertulia runs it after making sure Node, the packages and the web app are there).
//   tertulia start [options]   every part in this process: signal (HTTPS + WebSocket), focus, bridge;
//                              or some of them (--parts), the others elsewhere, all linked by NATS (--nats-url)
//   tertulia config [options]  the effective configuration as JSON
//   tertulia --help | --version
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Bus } from '../bus/bus.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { redactNatsUrl } from '../bus/nats-url.ts';
import { ConfigError, configSchema, envNames, loadConfig, PART_NAMES, settingHelp, type Config, type PartName } from '../config/config.ts';
import { createLogger, type Logger } from '../log.ts';
import { VERSION } from './version.ts';
// The parts (signal, focus, bridge) are imported by `start` only, so --help and `config` answer at once.

type SettingKey = keyof Config;

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** One --option per setting, named after it: httpsPort -> --https-port. */
const SETTING_OPTIONS = (Object.keys(configSchema.shape) as SettingKey[]).map((key) => ({ key, flag: kebab(key) }));

const OPTION_ARG: Partial<Record<SettingKey, string>> = {
  listenAddress: 'ADDR',
  httpsPort: 'PORT',
  httpPort: 'PORT',
  mediaPort: 'PORT',
  publicAddress: 'IP',
  dataDir: 'DIR',
  tlsCert: 'FILE',
  tlsKey: 'FILE',
  participantTimeout: 'SECONDS',
  logLevel: 'LEVEL',
  parts: 'LIST',
  natsUrl: 'URL',
  natsUser: 'USER',
  natsPassword: 'PASSWORD',
  natsToken: 'TOKEN',
  bridgeId: 'ID',
  authMode: 'MODE',
  allowGuests: 'BOOL',
  jwtAppId: 'ID',
  jwtAcceptedIssuers: 'LIST',
  jwtAudience: 'LIST',
  jwtSecret: 'SECRET',
  jwtPublicKeys: 'FILES',
};

const PARSE_OPTIONS: ParseArgsConfig['options'] = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  config: { type: 'string', short: 'c' },
  ...Object.fromEntries(SETTING_OPTIONS.map((o) => [o.flag, { type: 'string' as const }])),
};

const COMMANDS: [string, string][] = [
  ['start', 'run Tertulia: web app + signalling (HTTPS, WebSocket), focus and the media bridge, in this process (or --parts of them)'],
  ['config', 'print the effective configuration (defaults < file < environment < options) as JSON'],
  ['users', 'accounts for --auth-mode accounts: users add NAME | remove NAME | passwd NAME | list'],
  ['help', 'show this help'],
  ['version', 'print the version'],
];

export function helpText(): string {
  const rows: [string, string][] = [
    ['-c, --config FILE', 'JSON configuration file (default: $TERTULIA_CONFIG, else ./tertulia.json when present)'],
    ...SETTING_OPTIONS.map((o): [string, string] => [`--${o.flag} ${OPTION_ARG[o.key] ?? 'VALUE'}`, settingHelp[o.key]]),
    ['-h, --help', 'show this help'],
    ['-v, --version', 'print the version'],
  ];
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [
    `Tertulia ${VERSION}: self-hosted video meetings`,
    '',
    'Usage: tertulia <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map(([c, d]) => `  ${c.padEnd(9)}${d}`),
    '',
    'Options (start, config):',
    ...rows.map(([o, d]) => `  ${o.padEnd(width)}${d}`),
    '',
    `Every setting can also come from the environment, e.g. ${envNames.httpsPort}=443 ${envNames.publicAddress}=203.0.113.7.`,
    'Precedence: defaults < config file < environment < command-line options.',
    '',
    'Examples:',
    '  ./tertulia start',
    '  ./tertulia start --https-port 443 --http-port 80 --public-address 203.0.113.7',
    '  ./tertulia config --data-dir /var/lib/tertulia',
    '',
    'Several machines (the parts talk over a NATS server; open its port 4222/tcp only to the other machines):',
    '  machine A:    nats-server -a 10.0.0.5 -p 4222 &',
    '                ./tertulia start --parts web,focus --nats-url nats://10.0.0.5:4222',
    '  machines B/C: ./tertulia start --parts bridge --nats-url nats://10.0.0.5:4222 --public-address 203.0.113.8',
    '  --parts other than all needs --nats-url. Bridge ids must differ (the default, <hostname>-<media port>, does).',
    `  Credentials: ${envNames.natsUser}/${envNames.natsPassword} or ${envNames.natsToken} (the environment keeps them out of ps).`,
    '',
  ].join('\n');
}

class UsageError extends Error {}

interface Parsed {
  command: string | undefined;
  help: boolean;
  version: boolean;
  configFile: string | undefined;
  overrides: Partial<Record<SettingKey, unknown>>;
  usedSettingOptions: boolean;
  /** Arguments after the command (only `users` takes any). */
  rest: string[];
}

export function parseCommandLine(argv: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: PARSE_OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!.split('. To specify')[0]!);
  }
  const positionals = parsed.positionals;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (positionals.length > 1 && positionals[0] !== 'users') throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const overrides: Partial<Record<SettingKey, unknown>> = {};
  for (const o of SETTING_OPTIONS) {
    const v = values[o.flag];
    if (v !== undefined) overrides[o.key] = v;
  }
  return {
    command: positionals[0],
    help: values.help === true,
    version: values.version === true,
    configFile: typeof values.config === 'string' ? values.config : undefined,
    overrides,
    usedSettingOptions: Object.keys(overrides).length > 0 || values.config !== undefined,
    rest: positionals.slice(1),
  };
}

/** The configuration as printed by `tertulia config`: nothing that looks like a secret. */
export function printableConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = /secret|password|token|jwt/i.test(k) && v ? '[secret]' : v;
  if (typeof out.natsUrl === 'string') out.natsUrl = redactNatsUrl(out.natsUrl, '[secret]@');
  return out;
}

/** This bridge's id on the bus: the bridgeId setting, else <short hostname>-<media port>. */
export function effectiveBridgeId(config: Config, hostname: string = os.hostname()): string {
  if (config.bridgeId) return config.bridgeId;
  const host = (hostname.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'bridge';
  return config.mediaPort ? `${host}-${config.mediaPort}` : `${host}-${randomBytes(3).toString('hex')}`;
}

/** Why `start` cannot run with these parts, or undefined. */
export function partsProblem(config: Config): string | undefined {
  const all = PART_NAMES.every((p) => config.parts.includes(p));
  if (all || config.natsUrl) return undefined;
  return (
    `--parts ${config.parts.join(',')} needs --nats-url (${envNames.natsUrl}): the other parts run in other processes ` +
    'or machines and are reached only through a NATS server. Without one, leave --parts out to run every part here.'
  );
}

const PART_LABEL: Record<PartName, string> = { signal: 'web/signal', focus: 'focus', bridge: 'bridge' };

function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

function lanIPv4(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if ((a.family === 'IPv4' || (a.family as unknown) === 4) && !a.internal && !out.includes(a.address)) out.push(a.address);
    }
  }
  return out;
}

export function startupMessage(info: {
  config: Config;
  httpsPort: number;
  httpPort: number;
  /** undefined when no bridge runs in this process (the bridges are other machines). */
  mediaPort: number | undefined;
  selfSigned: boolean;
}): string {
  const { config, httpsPort, httpPort, mediaPort } = info;
  const wildcard = ['0.0.0.0', '::', ''].includes(config.listenAddress);
  const hosts: string[] = [];
  if (wildcard || /^127\.|^::1$|^localhost$/.test(config.listenAddress)) hosts.push('localhost');
  if (wildcard) hosts.push(...lanIPv4());
  else if (!/^127\.|^::1$|^localhost$/.test(config.listenAddress)) hosts.push(config.listenAddress);
  if (config.publicAddress && !hosts.includes(config.publicAddress)) hosts.push(config.publicAddress);
  const lines = [
    `Tertulia ${VERSION} is running.`,
    '',
    'Open one of these in a browser:',
    ...hosts.map((h) => `  https://${urlHost(h)}:${httpsPort}/${h === config.publicAddress && h !== 'localhost' ? '   (public address)' : ''}`),
    '  (add a room name to the address, e.g. /MyMeeting)',
    '',
    'Ports to open in the firewall:',
    `  ${`${httpsPort}/tcp`.padEnd(11)}HTTPS and WebSocket`,
    httpPort ? `  ${`${httpPort}/tcp`.padEnd(11)}HTTP (redirects to HTTPS)` : '  (HTTP redirect: off)',
    mediaPort === undefined
      ? '  (media: on the bridge machines, their media UDP port)'
      : `  ${`${mediaPort}/udp`.padEnd(11)}media (audio and video of every participant)`,
  ];
  if (info.selfSigned) {
    lines.push(
      '',
      `The HTTPS certificate is self-signed (${config.dataDir}/tls/cert.pem): browsers warn once;`,
      'accept it ("Advanced" -> "Proceed"). For a trusted certificate use --tls-cert FILE --tls-key FILE.',
    );
  }
  lines.push('', 'Stop with Ctrl+C.');
  return lines.join('\n');
}

interface Closable {
  close(): Promise<void>;
}

async function closeAll(parts: (Closable | undefined)[], log: Logger): Promise<void> {
  for (const part of parts) {
    if (!part) continue;
    try {
      await part.close();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'error while stopping');
    }
  }
}

/** What a process without signal prints when it is up: its parts, and the ports to open. */
export function partsMessage(info: { config: Config; bridgeId: string | undefined; mediaPort: number | undefined; nats: string }): string {
  const parts = info.config.parts.map((p) => PART_LABEL[p]).join(', ');
  const lines = [`Tertulia ${VERSION} is running: ${parts}${info.bridgeId ? ` (bridge id ${info.bridgeId})` : ''}.`, `Connected to NATS at ${info.nats}.`, ''];
  if (info.mediaPort !== undefined) {
    const announced = info.config.publicAddress ? ` (announced to browsers as ${info.config.publicAddress})` : '';
    lines.push('Ports to open in the firewall:', `  ${`${info.mediaPort}/udp`.padEnd(11)}media, from everywhere the participants are${announced}`);
  } else {
    lines.push('No port to open: this process only talks to the NATS server.');
  }
  lines.push('', 'Stop with Ctrl+C.');
  return lines.join('\n');
}

async function connectBus(config: Config, log: Logger): Promise<{ bus: Bus; shown: string }> {
  if (!config.natsUrl) return { bus: new MemoryBus(), shown: '' };
  const { NatsBus } = await import('../bus/nats-bus.ts');
  const parts = config.parts.map((p) => PART_LABEL[p]).join('+');
  const bus = await NatsBus.connect({
    url: config.natsUrl,
    user: config.natsUser || undefined,
    password: config.natsPassword || undefined,
    token: config.natsToken || undefined,
    log,
    name: `tertulia ${parts} on ${os.hostname()}`,
  });
  return { bus, shown: bus.server };
}

async function start(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason instanceof Error ? reason.message : String(reason), stack: reason instanceof Error ? reason.stack : undefined }, 'unhandled rejection');
  });
  const runs = (part: PartName) => config.parts.includes(part);
  let bus: Bus;
  let natsShown: string;
  try {
    ({ bus, shown: natsShown } = await connectBus(config, log));
  } catch (e) {
    process.stderr.write(`tertulia: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const [{ startFocus }, { startBridge }, { startSignal }] = await Promise.all([
    runs('focus') ? import('../focus/index.ts') : { startFocus: undefined },
    runs('bridge') ? import('../bridge/index.ts') : { startBridge: undefined },
    runs('signal') ? import('../signal/index.ts') : { startSignal: undefined },
  ]);
  // focus first: it must hear the bridge's first announcement
  const focus = startFocus?.({ bus, config, log });
  let bridge: Awaited<ReturnType<NonNullable<typeof startBridge>>> | undefined;
  let signal: Awaited<ReturnType<NonNullable<typeof startSignal>>> | undefined;
  try {
    bridge = await startBridge?.({ bus, config, log, bridgeId: effectiveBridgeId(config) });
    signal = await startSignal?.({ bus, config, log });
  } catch (e) {
    process.stderr.write(`tertulia: cannot start: ${(e as Error).message}\n`);
    await closeAll([signal, bridge, focus, bus], log);
    process.exit(1);
  }

  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) {
      process.stderr.write('tertulia: stopping now\n');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    const force = setTimeout(() => {
      process.stderr.write('tertulia: stopping took too long; exiting\n');
      process.exit(1);
    }, 8000);
    force.unref();
    // signal first (participants leave, focus tells the bridge), then the bridge, then focus and the bus
    void closeAll([signal, bridge, focus, bus], log).then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  const message = signal
    ? startupMessage({ config, httpsPort: signal.httpsPort, httpPort: signal.httpPort, mediaPort: bridge?.mediaPort, selfSigned: signal.selfSignedCertificate }) +
      (natsShown ? `\nParts here: ${config.parts.map((p) => PART_LABEL[p]).join(', ')}; connected to NATS at ${natsShown}.` : '')
    : partsMessage({ config, bridgeId: bridge?.bridgeId, mediaPort: bridge?.mediaPort, nats: natsShown });
  process.stdout.write(message + '\nTertulia is ready\n');
}

export async function main(argv: string[]): Promise<number> {
  let args: Parsed;
  try {
    args = parseCommandLine(argv);
  } catch (e) {
    process.stderr.write(`tertulia: ${(e as Error).message}\n\n${helpText()}`);
    return 2;
  }
  if (args.help || args.command === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (args.version || args.command === 'version') {
    process.stdout.write(`tertulia ${VERSION}\n`);
    return 0;
  }
  if (args.command === undefined) {
    process.stderr.write(`tertulia: missing command\n\n${helpText()}`);
    return 2;
  }
  if (args.command !== 'start' && args.command !== 'config' && args.command !== 'users') {
    process.stderr.write(`tertulia: unknown command "${args.command}"\n\n${helpText()}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig({ file: args.configFile, overrides: args.overrides });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tertulia: bad configuration:\n${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args.command === 'config') {
    process.stdout.write(JSON.stringify(printableConfig(config), null, 2) + '\n');
    return 0;
  }
  if (args.command === 'users') return await (await import('./users.ts')).runUsersCommand(args.rest, config);
  const problem = partsProblem(config);
  if (problem) {
    process.stderr.write(`tertulia: ${problem}\n`);
    return 2;
  }
  await start(config);
  return -1; // keeps running until SIGINT/SIGTERM
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`tertulia: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
