// `tertulia status [--json]`: what the server running with this data directory is doing, asked through its
// control socket (signal/server-status.ts): rooms and participants, the bus, bridges, recorders, the certificate, TURN.
import type { Config } from '../../config/config.ts';
import { serverStatusSchema, type ServerStatus } from '../../protocol/control-messages.ts';
import { connectControl, ControlError } from '../control-client.ts';

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

function turnLine(t: NonNullable<ServerStatus['turn']>): string {
  if (t.mode === 'off') return `TURN: off${t.reason ? ` (${t.reason})` : ''}`;
  if (t.mode === 'external') return 'TURN: an external server (turnExternalUrls), credentials handed out';
  const where = t.port ? `port ${t.port} (UDP, TCP) and TLS on the HTTPS port` : 'TLS on the HTTPS port only';
  const extra = [t.restarts ? `${t.restarts} restarts` : '', t.tlsConnections !== undefined ? `${t.tlsConnections} TLS connections, ${t.tlsOpen ?? 0} open` : '', t.reason && t.state !== 'up' ? t.reason : ''].filter(Boolean);
  return `TURN: coturn ${t.state ?? '?'}, ${where}${extra.length ? `; ${extra.join('; ')}` : ''}`;
}

/** The bus's line: nothing to lose in one process; over NATS, whether the connection is up (no credentials shown). */
function busLine(b: NonNullable<ServerStatus['bus']>): string {
  if (b.kind === 'memory') return 'Bus: in this process (every part runs here, no NATS)';
  const where = `NATS ${b.server ?? '?'}`;
  if (b.connected) return `Bus: ${where}, connected`;
  const since = b.downSeconds !== undefined ? ` for ${duration(b.downSeconds)}` : '';
  return `Bus: ${where}, DOWN: reconnecting${since}; no part reaches the others meanwhile (bridges and recorders below are as last heard)`;
}

/** The report as an admin reads it in a terminal. */
export function statusText(s: ServerStatus): string {
  const lines = [`Tertulia ${s.version}, up ${duration(s.uptimeSeconds)}`, ''];
  lines.push(`Rooms: ${s.rooms.length}, participants: ${s.participants}`);
  for (const r of s.rooms) {
    const flags = [r.locked ? 'locked' : '', r.lobby ? 'lobby' : '', ...r.running].filter(Boolean);
    lines.push(`  ${r.name}: ${r.participants} (${r.moderators} moderator${r.moderators === 1 ? '' : 's'})${flags.length ? `  [${flags.join(', ')}]` : ''}`);
  }
  lines.push('');
  const busDown = s.bus?.kind === 'nats' && !s.bus.connected;
  if (s.bus) lines.push(busLine(s.bus));
  lines.push(`Bridges: ${s.bridges.length}${s.bridges.length === 0 ? `  (none heard in 15 s: no meeting can start${busDown ? '; the bus is down' : ''})` : ''}`);
  for (const b of s.bridges) {
    const notes = [b.draining ? 'draining: its meetings move to other bridges' : '', b.silentSeconds !== undefined ? `not heard for ${b.silentSeconds} s` : ''].filter(Boolean);
    lines.push(`  ${b.id}: ${b.endpoints} endpoints${b.maxEndpoints !== undefined ? ` of ${b.maxEndpoints}` : ''}${notes.length ? `  (${notes.join('; ')})` : ''}`);
  }
  lines.push('', `Recorders: ${s.recorders.length}`);
  for (const r of s.recorders) lines.push(`  ${r.id}: ${r.free} free`);
  lines.push('');
  const c = s.certificate;
  if (!c) lines.push('Certificate: unreadable');
  else {
    const warn = c.daysLeft < 14 ? '  (renew it soon!)' : '';
    lines.push(`Certificate: ${c.selfSigned ? 'self-signed' : c.issuer}, ${c.subject}, expires ${c.notAfter.slice(0, 10)} (in ${c.daysLeft} days)${warn}`);
  }
  if (s.domain) lines.push(`Domain: ${s.domain} (ACME)`);
  if (s.turn) lines.push(turnLine(s.turn));
  return lines.join('\n') + '\n';
}

export async function runStatusCommand(options: { json?: boolean }, config: Config): Promise<number> {
  try {
    const control = await connectControl(config.dataDir);
    const reply = serverStatusSchema.parse(await control.ask({ op: 'status' }));
    control.close();
    process.stdout.write(options.json ? JSON.stringify(reply, null, 2) + '\n' : statusText(reply));
    return 0;
  } catch (e) {
    process.stderr.write(`tertulia: ${e instanceof ControlError ? e.message : `unexpected answer from the server: ${(e as Error).message}`}\n`);
    return 1;
  }
}
