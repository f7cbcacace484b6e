// What `tertulia start` prints once it is up: where to open the meeting and which ports to open.
import os from 'node:os';
import type { Config, PartName } from '../../config/config.ts';
import { VERSION } from '../version.ts';

export const PART_LABEL: Record<PartName, string> = { signal: 'web/signal', focus: 'focus', bridge: 'bridge', recorder: 'recorder', sip: 'sip' };

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

/** The width of the ports column (a port range and its protocol, e.g. 40000-49999/udp), then one space at least. */
const PORT_COLUMN = 15;

export function startupMessage(info: {
  config: Config;
  httpsPort: number;
  httpPort: number;
  /** undefined when no bridge runs in this process (the bridges are other machines). */
  mediaPort: number | undefined;
  /** The bridge's ICE-TCP port, when it listens on one. */
  tcpMediaPort?: number;
  /** The SIP gateway's port, when it runs here. */
  sipPort?: number;
  selfSigned: boolean;
  /** TURN: coturn runs here (turn-service.ts), or why not. */
  turn?: { mode: string; reason?: string };
}): string {
  const { config, httpsPort, httpPort, mediaPort } = info;
  const wildcard = ['0.0.0.0', '::', ''].includes(config.listenAddress);
  const hosts: string[] = [];
  if (wildcard || /^127\.|^::1$|^localhost$/.test(config.listenAddress)) hosts.push('localhost');
  if (wildcard) hosts.push(...lanIPv4());
  else if (!/^127\.|^::1$|^localhost$/.test(config.listenAddress)) hosts.push(config.listenAddress);
  if (config.publicAddress && !hosts.includes(config.publicAddress)) hosts.push(config.publicAddress);
  if (config.domain) hosts.unshift(config.domain);
  const lines = [
    `Tertulia ${VERSION} is running.`,
    '',
    'Open one of these in a browser:',
    ...hosts.map((h) => `  https://${urlHost(h)}:${httpsPort}/${h === config.publicAddress && h !== 'localhost' ? '   (public address)' : ''}`),
    '  (add a room name to the address, e.g. /MyMeeting)',
    '',
    'Ports to open in the firewall:',
    `  ${`${httpsPort}/tcp`.padEnd(PORT_COLUMN)} HTTPS and WebSocket`,
    httpPort ? `  ${`${httpPort}/tcp`.padEnd(PORT_COLUMN)} HTTP (redirects to HTTPS)` : '  (HTTP redirect: off)',
    mediaPort === undefined
      ? '  (media: on the bridge machines, their media UDP port)'
      : `  ${`${mediaPort}/udp`.padEnd(PORT_COLUMN)} media (audio and video of every participant)`,
  ];
  if (mediaPort !== undefined && info.tcpMediaPort) lines.push(`  ${`${info.tcpMediaPort}/tcp`.padEnd(PORT_COLUMN)} media for participants whose UDP is blocked (optional)`);
  if (info.turn?.mode === 'coturn') {
    if (config.turnPort) lines.push(`  ${`${config.turnPort}/udp+tcp`.padEnd(PORT_COLUMN)} TURN (coturn), for participants whose network blocks UDP; TURN over TLS also on ${httpsPort}/tcp`);
    else lines.push(`  (TURN over TLS on ${httpsPort}/tcp, coturn on no port of its own)`);
    lines.push(`  ${`${config.turnRelayPortMin}-${config.turnRelayPortMax}/udp`.padEnd(PORT_COLUMN)} TURN relays`);
  } else if (info.turn?.mode === 'off' && info.turn.reason) {
    lines.push(`  (TURN: off, ${info.turn.reason})`);
  }
  lines.push(...sipLines(config, info.sipPort));
  if (config.domain) {
    lines.push(
      '',
      `The HTTPS certificate for ${config.domain} comes from ${config.acmeDirectoryUrl} (ACME, renewed by itself);`,
      `the certificate authority checks the domain on port 80, which must reach ${httpPort}/tcp here. The log says when it is in use.`,
    );
  } else if (info.selfSigned) {
    lines.push(
      '',
      `The HTTPS certificate is self-signed (${config.dataDir}/tls/cert.pem): browsers warn once;`,
      'accept it ("Advanced" -> "Proceed"). For a trusted certificate use --tls-cert FILE --tls-key FILE.',
    );
  }
  if (config.metricsAddress) lines.push('', `Metrics and health: http://${config.metricsAddress}/metrics, /readyz, /colibri/stats${config.metricsToken ? ' (Bearer token)' : ''}.`);
  lines.push('', 'Stop with Ctrl+C.');
  return lines.join('\n');
}

/** What a process without signal prints when it is up: its parts, and the ports to open. */
export function partsMessage(info: {
  config: Config;
  bridgeId: string | undefined;
  mediaPort: number | undefined;
  tcpMediaPort?: number;
  sipPort?: number;
  nats: string;
}): string {
  const parts = info.config.parts.map((p) => PART_LABEL[p]).join(', ');
  const lines = [`Tertulia ${VERSION} is running: ${parts}${info.bridgeId ? ` (bridge id ${info.bridgeId})` : ''}.`, `Connected to NATS at ${info.nats}.`, ''];
  const c = info.config;
  const ports: string[] = [];
  if (info.mediaPort !== undefined) {
    const announced = c.publicAddress ? ` (announced to browsers as ${c.publicAddress})` : '';
    ports.push(`  ${`${info.mediaPort}/udp`.padEnd(PORT_COLUMN)} media, from everywhere the participants are${announced}`);
    if (info.tcpMediaPort) ports.push(`  ${`${info.tcpMediaPort}/tcp`.padEnd(PORT_COLUMN)} media for participants whose UDP is blocked (optional)`);
    ports.push(`  ${`${c.plainRtpPortMin}-${c.plainRtpPortMax}/udp`.padEnd(PORT_COLUMN)} plain RTP: relays between bridges, recordings, phone calls (only from your own machines)`);
  }
  if (c.parts.includes('recorder')) {
    ports.push(`  ${`${c.recorderPortMin}-${c.recorderPortMax}/udp`.padEnd(PORT_COLUMN)} recordings' media from the bridges, on ${c.recorderAddress} (only from the bridges)`);
  }
  ports.push(...sipLines(c, info.sipPort));
  if (ports.length > 0) lines.push('Ports to open in the firewall:', ...ports);
  else lines.push('No port to open: this process only talks to the NATS server.');
  if (info.config.metricsAddress) lines.push('', `Metrics and health of this process's parts: http://${info.config.metricsAddress}/metrics, /readyz, /colibri/stats.`);
  lines.push('', 'Stop with Ctrl+C.');
  return lines.join('\n');
}

/** The SIP gateway's ports, when it runs here (the same lines in both messages). */
function sipLines(config: Config, sipPort: number | undefined): string[] {
  if (sipPort === undefined) return [];
  return [
    `  ${`${sipPort}/udp+tcp`.padEnd(PORT_COLUMN)} SIP: phones and trunks call into meetings (sip:room@${config.sipPublicAddress || 'this-host'}:${sipPort})`,
    `  ${`${config.sipRtpPortMin}-${config.sipRtpPortMax}/udp`.padEnd(PORT_COLUMN)} phone calls' audio`,
  ];
}
