// The `tertulia` command (./tertulia runs it through scripts/launch.mjs after making sure Node, the packages, the
// web app and the server's JavaScript build are there):
// options, help and the settings, then one of the commands in ./commands/:
//   tertulia start [options]   every part in this process: signal (HTTPS + WebSocket), focus, bridge;
//                              or some of them (--parts), the others elsewhere, all linked by NATS (--nats-url)
//   tertulia config [options]  the effective configuration as JSON
//   tertulia users ...         accounts for --auth-mode accounts
//   tertulia play / tap        a file played into a meeting, a participant recorded (the server running here)
//   tertulia status            what the server running here is doing
//   tertulia loadtest          synthetic participants against any server (its own options)
//   tertulia install|uninstall as a systemd service (root)
//   tertulia --help | --version
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, configSchema, envNames, loadConfig, settingHelp, type Config } from '../config/config.ts';
import { strayEnvNames } from '../config/stray-env.ts';
import { VERSION } from './version.ts';

type SettingKey = keyof Config;

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** One --option per setting, named after it: httpsPort -> --https-port. */
const SETTING_OPTIONS = (Object.keys(configSchema.shape) as SettingKey[]).map((key) => ({ key, flag: kebab(key) }));

const OPTION_ARG: Partial<Record<SettingKey, string>> = {
  listenAddress: 'ADDR',
  httpsPort: 'PORT',
  httpPort: 'PORT',
  mediaPort: 'PORT',
  tcpMediaPort: 'PORT',
  plainRtpPortMin: 'PORT',
  plainRtpPortMax: 'PORT',
  recorderPortMin: 'PORT',
  recorderPortMax: 'PORT',
  sipRtpPortMin: 'PORT',
  sipRtpPortMax: 'PORT',
  sipTlsPort: 'PORT',
  sipPort: 'PORT',
  sipAddress: 'IP',
  sipPublicAddress: 'IP',
  sipMediaAddress: 'IP',
  lastN: 'N',
  p2p: 'BOOL',
  sipMixOnThreads: 'BOOL',
  publicAddress: 'IP',
  stunServer: 'HOST:PORT',
  dataDir: 'DIR',
  tlsCert: 'FILE',
  tlsKey: 'FILE',
  domain: 'NAME',
  acmeEmail: 'EMAIL',
  acmeDirectoryUrl: 'URL',
  metricsAddress: 'HOST:PORT',
  metricsToken: 'TOKEN',
  maxSessionMlines: 'N',
  receiveSlotsFrom: 'N',
  receiveAudioSlots: 'N',
  receiveVideoSlots: 'N',
  renegotiationBurst: 'N',
  renegotiationRate: 'PER_SECOND',
  participantTimeout: 'SECONDS',
  serveSourceMaps: 'BOOL',
  joinTimeout: 'SECONDS',
  promptTimeout: 'SECONDS',
  maxConnectionsPerAddress: 'N',
  maxParticipantsPerAddress: 'N',
  maxRoomsPerAddressPerMinute: 'N',
  maxRooms: 'N',
  maxBoardMemoryMb: 'MIB',
  maxParticipantsPerRoom: 'N',
  maxEndpointsPerBridge: 'N',
  bridgeHeartbeat: 'SECONDS',
  bridgeFailureTimeout: 'SECONDS',
  bridgeDrainTimeout: 'SECONDS',
  resourcesPort: 'PORT',
  recordingWidth: 'PIXELS',
  recordingHeight: 'PIXELS',
  recordingFps: 'N',
  recordingVideoBitrate: 'KBITS',
  recordingLayout: 'LAYOUT',
  recordingMode: 'MODE',
  maxRecordingsPerRecorder: 'N',
  recorderId: 'ID',
  recorderAddress: 'IP',
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
  webhookUrls: 'URLS',
  webhookSecret: 'SECRET',
  adminApiToken: 'TOKEN',
  adminApiJwt: 'BOOL',
  sipDialInNumbers: 'JSON',
  sipLanguage: 'LANG',
  embedAllowedOrigins: 'ORIGINS',
  sipTrunkUri: 'URI',
  sipTrunkProxy: 'URI',
  sipTrunkUser: 'USER',
  sipTrunkPassword: 'PASSWORD',
  sipTrunkRegister: 'BOOL',
  sipTrunkFrom: 'NUMBER',
  sipDialOutAnonymous: 'BOOL',
};

const PARSE_OPTIONS: ParseArgsConfig['options'] = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  config: { type: 'string', short: 'c' },
  // play and tap
  room: { type: 'string' },
  name: { type: 'string' },
  loop: { type: 'boolean' },
  participant: { type: 'string' },
  out: { type: 'string' },
  seconds: { type: 'string' },
  // install and uninstall
  root: { type: 'string' },
  'no-start': { type: 'boolean' },
  purge: { type: 'boolean' },
  // status
  json: { type: 'boolean' },
  ...Object.fromEntries(SETTING_OPTIONS.map((o) => [o.flag, { type: 'string' as const }])),
};

const COMMANDS: [string, string][] = [
  ['start', 'run Tertulia: web app + signalling (HTTPS, WebSocket), focus, the media bridge and the recorder, in this process (or --parts of them)'],
  ['config', 'print the effective configuration (defaults < file < environment < options) as JSON'],
  ['users', 'accounts (they open rooms with --auth-mode accounts; those in --admin-accounts sign in at /recordings in any mode): users add NAME | remove NAME | passwd NAME | list'],
  ['play', 'play a video file into a meeting on the server running here: play FILE --room NAME [--name NAME] [--loop]'],
  ['tap', 'record one participant with ffmpeg: tap --room NAME --participant WHO [--out FILE.mkv] [--seconds N]'],
  ['status', 'what the server running here (same --data-dir) is doing: rooms, participants, bridges, recorders, certificate [--json]'],
  ['loadtest', 'synthetic participants join rooms of any Tertulia server and report what they got: loadtest --url https://HOST:PORT [--rooms N --participants N --publishers N --duration S] (loadtest --help)'],
  ['install', 'as root: a systemd service (user tertulia, /var/lib/tertulia, /etc/tertulia/tertulia.json with the settings given), enabled and started [--no-start] [--root DIR]'],
  ['uninstall', 'as root: stop and remove the service; --purge also removes its configuration, data and user [--root DIR]'],
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
    ...COMMANDS.map(([c, d]) => `  ${c.padEnd(10)}${d}`),
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
    '  ./tertulia play talk.mp4 --room Physics --loop        (the server runs here, same --data-dir)',
    '  ./tertulia tap --room Physics --participant Ana --seconds 60 --out ana.mkv',
    '  ./tertulia loadtest --url https://meet.example.org --rooms 10 --participants 5 --publishers 2 --duration 60',
    '  sudo ./tertulia install --domain meet.example.org --https-port 443 --http-port 80',
    '',
    'Several machines (the parts talk over a NATS server; open its port 4222/tcp only to the other machines):',
    `  every machine: export ${envNames.natsUser}=tertulia ${envNames.natsPassword}=<the same long random password>`,
    `  machine A:    nats-server -a 10.0.0.5 -p 4222 --user "$${envNames.natsUser}" --pass "$${envNames.natsPassword}" &`,
    '                ./tertulia start --parts web,focus --nats-url nats://10.0.0.5:4222',
    '  machines B/C: ./tertulia start --parts bridge --nats-url nats://10.0.0.5:4222 --public-address 203.0.113.8',
    '  --parts other than all needs --nats-url. Bridge ids must differ (the default, <hostname>-<media port>, does).',
    `  Credentials: ${envNames.natsUser}/${envNames.natsPassword} or ${envNames.natsToken}, in the environment (it keeps them out of ps).`,
    '',
  ].join('\n');
}

/** `tertulia COMMAND --help` (or `tertulia help COMMAND`) of a command other than start and config: its own line. */
export function commandHelpText(command: string | undefined): string | undefined {
  if (command === undefined || command === 'start' || command === 'config') return undefined;
  const entry = COMMANDS.find(([c]) => c === command && c !== 'help' && c !== 'version');
  if (!entry) return undefined;
  return [
    `tertulia ${entry[0]}: ${entry[1]}`,
    '',
    'It reads the same settings as start (a configuration file, the environment, options such as --data-dir): tertulia --help lists them.',
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
  /** Arguments after the command (only `users` and `play` take any). */
  rest: string[];
  /** The options of play and tap. */
  media: { room?: string; name?: string; loop?: boolean; participant?: string; out?: string; seconds?: string };
  /** The options of install and uninstall. */
  install: { root?: string; noStart?: boolean; purge?: boolean };
  json: boolean;
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
  if (positionals.length > 1 && !['users', 'play', 'help'].includes(positionals[0]!)) throw new UsageError(`unexpected argument "${positionals[1]}"`);
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
    media: {
      ...(typeof values.room === 'string' ? { room: values.room } : {}),
      ...(typeof values.name === 'string' ? { name: values.name } : {}),
      ...(values.loop === true ? { loop: true } : {}),
      ...(typeof values.participant === 'string' ? { participant: values.participant } : {}),
      ...(typeof values.out === 'string' ? { out: values.out } : {}),
      ...(typeof values.seconds === 'string' ? { seconds: values.seconds } : {}),
    },
    install: {
      ...(typeof values.root === 'string' ? { root: values.root } : {}),
      ...(values['no-start'] === true ? { noStart: true } : {}),
      ...(values.purge === true ? { purge: true } : {}),
    },
    json: values.json === true,
  };
}

export async function main(argv: string[]): Promise<number> {
  // a client of any server, with options of its own: no settings of this machine are read
  if (argv[0] === 'loadtest') return await (await import('./commands/loadtest.ts')).runLoadtestCommand(argv.slice(1));
  let args: Parsed;
  try {
    args = parseCommandLine(argv);
  } catch (e) {
    // "--last-n -3": the parser cannot tell a negative value from another option
    const ambiguous = /^Option '(--[a-z-]+)' argument is ambiguous/.exec((e as Error).message);
    if (ambiguous) {
      const value = argv[argv.indexOf(ambiguous[1]!) + 1] ?? '-1';
      process.stderr.write(`tertulia: ${ambiguous[1]} ${value}: a value that starts with "-" is written ${ambiguous[1]}=${value}\n`);
      return 2;
    }
    process.stderr.write(`tertulia: ${(e as Error).message}\n\n${helpText()}`);
    return 2;
  }
  if (args.help || args.command === 'help') {
    process.stdout.write(commandHelpText(args.command === 'help' ? args.rest[0] : args.command) ?? helpText());
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
  if (!['start', 'config', 'users', 'play', 'tap', 'status', 'install', 'uninstall'].includes(args.command)) {
    process.stderr.write(`tertulia: unknown command "${args.command}"\n\n${helpText()}`);
    return 2;
  }
  for (const stray of strayEnvNames(process.env)) process.stderr.write(`tertulia: warning: ${stray}\n`);
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
  // each command is loaded when it runs, so --help and `config` answer at once
  if (args.command === 'config') return (await import('./commands/config.ts')).runConfigCommand(config);
  if (args.command === 'users') return await (await import('./commands/users.ts')).runUsersCommand(args.rest, config);
  if (args.command === 'play') return await (await import('./commands/play.ts')).runPlayCommand(args.rest, args.media, config);
  if (args.command === 'tap') return await (await import('./commands/tap.ts')).runTapCommand(args.media, config);
  if (args.command === 'status') return await (await import('./commands/status.ts')).runStatusCommand({ json: args.json }, config);
  if (args.command === 'install') return (await import('./commands/install.ts')).runInstall(config, args.overrides, args.install);
  if (args.command === 'uninstall') return (await import('./commands/install.ts')).runUninstall(args.install);
  // -1: keeps running until SIGINT/SIGTERM; SIGHUP reads the settings again from the same sources
  return await (await import('./commands/start.ts')).runStartCommand(config, () => loadConfig({ file: args.configFile, overrides: args.overrides }));
}

/** Runs the command line as the process's own (scripts/launch.mjs, or this file run directly): exit code, errors. */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`tertulia: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntry) runCli(process.argv.slice(2));
