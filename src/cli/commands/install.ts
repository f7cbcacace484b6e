// `tertulia install` / `tertulia uninstall` (as root): Tertulia as a systemd service. Install makes a system
// user (`tertulia`, no login, home = the data directory), the data directory (/var/lib/tertulia, 0700), the
// configuration file (/etc/tertulia/tertulia.json, 0640 root:tertulia: it may hold secrets; settings given on
// the command line are written into it, an existing file keeps its other settings), and the unit
// (/etc/systemd/system/tertulia.service, hardened: the service writes only its data directory), then enables
// and starts it when systemd runs here. Uninstall stops and removes the unit and keeps the data and the
// configuration unless --purge (then the user goes too). `--root DIR` does it all inside DIR (a system image
// being prepared, or a test): paths in the files stay the system's own, and systemctl is not called.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/config.ts';

export const UNIT_NAME = 'tertulia.service';
const UNIT_FILE = '/etc/systemd/system/tertulia.service';
const CONFIG_FILE = '/etc/tertulia/tertulia.json';
const DATA_DIR = '/var/lib/tertulia';
const USER = 'tertulia';
const SETTING_NAME = /^[a-zA-Z][a-zA-Z0-9]*$/;

export interface InstallOptions {
  /** Install inside this directory instead of / (no systemctl). */
  root?: string;
  /** Install: enable the unit but do not start it now. Uninstall: unused. */
  noStart?: boolean;
  /** Uninstall: remove the configuration, the data directory and the user too. */
  purge?: boolean;
}

/** The repository this command runs from, and the Node that runs it (the service uses both as they are). */
function installation(): { repo: string; node: string; main: string } {
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
  return { repo, node: process.execPath, main: path.join(repo, 'scripts/launch.mjs') };
}

/**
 * The unit: the Node binary runs scripts/launch.mjs directly (the ./tertulia bootstrap installs as root, not here):
 * the JavaScript build in dist/ when it matches the sources, src/cli/main.ts otherwise (the service cannot write
 * dist/: after an update, `./tertulia install` again or any ./tertulia command rebuilds it).
 * `stopSeconds`: systemd's TimeoutStopSec, beyond the process's own forced exit (a bridge's drain time + 8 s).
 */
export function unitText(o: { node: string; main: string; repo: string; user: string; dataDir: string; configFile: string; stopSeconds?: number }): string {
  return `# Written by \`tertulia install\`; \`tertulia uninstall\` removes it.
[Unit]
Description=Tertulia video meetings
Documentation=file://${o.repo}/README.md
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
WorkingDirectory=${o.dataDir}
Environment=HOME=${o.dataDir}
Environment=TERTULIA_CONFIG=${o.configFile}
ExecStart=${o.node} --disable-warning=ExperimentalWarning ${o.main} start
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2
TimeoutStopSec=${o.stopSeconds ?? 15}
LimitNOFILE=65536
# ports below 1024 (443, 80, 5060) without root
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${o.dataDir}
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes

[Install]
WantedBy=multi-user.target
`;
}

/** A path inside the root being installed to. */
const under = (root: string, p: string) => path.join(root, p);

function say(line: string): void {
  process.stdout.write(line + '\n');
}

/** The user's uid and gid from <root>/etc/passwd, or undefined. */
function userIds(root: string, user: string): { uid: number; gid: number } | undefined {
  const passwd = under(root, '/etc/passwd');
  if (!existsSync(passwd)) return undefined;
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** The first directory on the way to `p` that other users cannot enter, if any. */
function closedDirectory(p: string): string | undefined {
  for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return dir;
    if (dir === path.dirname(dir)) return undefined;
  }
}

/**
 * The first of these paths under /tmp or /var/tmp, if any: the service gets a /tmp of its own (PrivateTmp), and
 * the system empties /tmp at boot, so a checkout (or its Node) there would not be found by the service.
 */
export function temporaryLocation(...paths: string[]): string | undefined {
  return paths.find((p) => /^\/(var\/)?tmp(\/|$)/.test(path.resolve(p)));
}

function systemdRuns(root: string): boolean {
  return root === '/' && existsSync('/run/systemd/system');
}

function systemctl(...args: string[]): void {
  execFileSync('systemctl', args, { stdio: 'inherit' });
}

/** Settings given on the command line, merged into the file's (the file's others kept); written atomically. */
function writeConfig(file: string, settings: Record<string, unknown>, gid: number): 'created' | 'updated' | 'kept' {
  let current: Record<string, unknown> = {};
  const existed = existsSync(file);
  if (existed) {
    try {
      current = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file} is not valid JSON (${(e as Error).message}): fix or remove it first`);
    }
  }
  const next = { dataDir: DATA_DIR, ...current, ...settings };
  if (existed && JSON.stringify(next) === JSON.stringify(current)) return 'kept';
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o640 });
  chownSync(tmp, 0, gid);
  chmodSync(tmp, 0o640);
  renameSync(tmp, file);
  return existed ? 'updated' : 'created';
}

export function runInstall(config: Config, given: Partial<Record<keyof Config, unknown>>, o: InstallOptions): number {
  const root = path.resolve(o.root ?? '/');
  if (process.getuid?.() !== 0) {
    process.stderr.write('tertulia install: run it as root (sudo ./tertulia install), it creates a system user and writes to /etc\n');
    return 1;
  }
  const { repo, node, main } = installation();
  const closed = closedDirectory(main);
  if (closed) {
    const message = `the service's user cannot enter ${closed}, on the way to ${repo}: move the repository to a readable place such as /opt/tertulia, or chmod o+x ${closed}`;
    if (root === '/') {
      process.stderr.write(`tertulia install: ${message}\n`);
      return 1;
    }
    say(`warning: ${message}`);
  }
  const temporary = temporaryLocation(repo, node);
  if (temporary) {
    const message = `${temporary} is under a temporary directory, which the service cannot see (it runs with a private /tmp) and the system empties: move the repository to a lasting place such as /opt/tertulia and install from there`;
    if (root === '/') {
      process.stderr.write(`tertulia install: ${message}\n`);
      return 1;
    }
    say(`warning: ${message}`);
  }
  if (given.dataDir !== undefined && given.dataDir !== DATA_DIR) {
    process.stderr.write(`tertulia install: the service keeps its data in ${DATA_DIR} (--data-dir is not taken here)\n`);
    return 2;
  }

  let ids = userIds(root, USER);
  if (ids) {
    say(`user ${USER}: exists (uid ${ids.uid})`);
  } else {
    const prefix = root === '/' ? [] : ['--prefix', root];
    execFileSync('useradd', [...prefix, '--system', '--user-group', '--home-dir', DATA_DIR, '--no-create-home', '--shell', '/usr/sbin/nologin', '--comment', 'Tertulia video meetings', USER], { stdio: 'inherit' });
    ids = userIds(root, USER);
    if (!ids) throw new Error(`useradd did not create ${USER}`);
    say(`user ${USER}: created (system account, no login, uid ${ids.uid})`);
  }

  const dataDir = under(root, DATA_DIR);
  mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownSync(dataDir, ids.uid, ids.gid);
  chmodSync(dataDir, 0o700);
  say(`data directory: ${DATA_DIR} (owner ${USER}, mode 0700)`);

  const configFile = under(root, CONFIG_FILE);
  mkdirSync(path.dirname(configFile), { recursive: true, mode: 0o755 });
  // the values as loaded (numbers as numbers), for the settings the command line gave
  const settings: Record<string, unknown> = {};
  for (const key of Object.keys(given) as (keyof Config)[]) if (SETTING_NAME.test(key) && key !== 'dataDir') settings[key] = config[key];
  const written = writeConfig(configFile, settings, ids.gid);
  say(`configuration: ${CONFIG_FILE} (${written}; mode 0640, group ${USER}${Object.keys(settings).length ? `; set: ${Object.keys(settings).join(', ')}` : ''})`);
  const oldData = path.join(repo, 'data');
  if (existsSync(oldData)) say(`note: ${oldData} (from ./tertulia start) stays where it is; the service uses ${DATA_DIR}`);

  const unitFile = under(root, UNIT_FILE);
  mkdirSync(path.dirname(unitFile), { recursive: true });
  // a bridge drains on SIGTERM (bridgeDrainTimeout) before it stops: systemd waits for that, and a little more
  const stopSeconds = config.parts.includes('bridge') && config.natsUrl ? Math.ceil(config.bridgeDrainTimeout) + 15 : 15;
  writeFileSync(unitFile, unitText({ node, main, repo, user: USER, dataDir: DATA_DIR, configFile: CONFIG_FILE, stopSeconds }), { mode: 0o644 });
  say(`unit: ${UNIT_FILE}`);

  if (systemdRuns(root)) {
    systemctl('daemon-reload');
    systemctl('enable', ...(o.noStart ? [] : ['--now']), UNIT_NAME);
    say(o.noStart ? `enabled ${UNIT_NAME} (starts at boot; now: systemctl start tertulia)` : `enabled and started ${UNIT_NAME}: systemctl status tertulia, journalctl -u tertulia -f`);
  } else {
    say(root === '/' ? 'systemd does not run on this machine (a container?): nothing enabled' : `installed under ${root}: enable it there with systemctl enable --now tertulia`);
  }
  return 0;
}

export function runUninstall(o: InstallOptions): number {
  const root = path.resolve(o.root ?? '/');
  if (process.getuid?.() !== 0) {
    process.stderr.write('tertulia uninstall: run it as root\n');
    return 1;
  }
  const unitFile = under(root, UNIT_FILE);
  if (systemdRuns(root) && existsSync(unitFile)) {
    systemctl('disable', '--now', UNIT_NAME);
    say(`stopped and disabled ${UNIT_NAME}`);
  }
  if (existsSync(unitFile)) {
    rmSync(unitFile);
    say(`removed ${UNIT_FILE}`);
    if (systemdRuns(root)) systemctl('daemon-reload');
  } else {
    say(`${UNIT_FILE}: not there`);
  }
  if (!o.purge) {
    say(`kept ${CONFIG_FILE}, ${DATA_DIR} (recordings, certificates, accounts) and the user ${USER}: --purge removes them`);
    return 0;
  }
  rmSync(under(root, path.dirname(CONFIG_FILE)), { recursive: true, force: true });
  say(`removed ${path.dirname(CONFIG_FILE)}`);
  rmSync(under(root, DATA_DIR), { recursive: true, force: true });
  say(`removed ${DATA_DIR}`);
  if (userIds(root, USER)) {
    execFileSync('userdel', [...(root === '/' ? [] : ['--prefix', root]), USER], { stdio: 'inherit' });
    say(`removed the user ${USER}`);
  }
  return 0;
}
