// The iframe's address and size, from JitsiMeetExternalAPI's options, the way Jitsi's external_api.js makes them:
// https://<domain>/<room>?jwt=..&lang=..#jitsi_meet_external_api_id=<n>&config.<key>=<JSON>&interfaceConfig.<key>=<JSON>
// &userInfo.<key>=<JSON>&devices.<key>=<JSON> (each value URL-encoded JSON; the app ignores keys it does not know).
import { safeDecodeURIComponent } from '../../protocol/uri-decode.ts';

export interface FrameUrlOptions {
  roomName?: string;
  configOverwrite?: Record<string, unknown>;
  interfaceConfigOverwrite?: Record<string, unknown>;
  jwt?: string;
  lang?: string;
  userInfo?: { displayName?: string; email?: string };
  /** Device labels or ids to start with: audioInput, audioOutput, videoInput. */
  devices?: { audioInput?: string; audioOutput?: string; videoInput?: string };
}

function hashParams(prefix: string, values: object | undefined): string[] {
  if (!values || typeof values !== 'object') return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || typeof value === 'function') continue;
    out.push(`${prefix}.${encodeURIComponent(key)}=${encodeURIComponent(JSON.stringify(value))}`);
  }
  return out;
}

/** `domain` is host[:port] (Jitsi's meaning); a scheme or path in it is refused. */
export function frameUrl(domain: string, apiId: number, options: FrameUrlOptions = {}): string {
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(domain)) {
    throw new Error(`JitsiMeetExternalAPI: the domain is a host name with an optional port, e.g. meet.example.org (got ${JSON.stringify(domain)})`);
  }
  // Jitsi puts the name into the path as given, so integrations pass it typed or already percent-encoded
  const room = options.roomName ? `/${encodeURIComponent(safeDecodeURIComponent(options.roomName))}` : '/';
  const search = new URLSearchParams();
  if (options.jwt) search.set('jwt', options.jwt);
  if (options.lang) search.set('lang', options.lang);
  const query = search.size > 0 ? `?${search.toString()}` : '';
  const hash = [
    `jitsi_meet_external_api_id=${apiId}`,
    ...hashParams('config', options.configOverwrite),
    ...hashParams('interfaceConfig', options.interfaceConfigOverwrite),
    ...hashParams('userInfo', options.userInfo),
    ...hashParams('devices', options.devices),
  ].join('&');
  return `https://${domain}${room}${query}#${hash}`;
}

/** A CSS size: a number is pixels; a string must be a number with px, em, pt, %, vh or vw; else undefined. */
export function cssSize(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return `${value}px`;
  if (typeof value === 'string' && /^\d*\.?\d+(px|em|pt|%|vh|vw)$/.test(value.trim())) return value.trim();
  return undefined;
}

/** What the iframe may use: a meeting needs all of these. */
export const FRAME_ALLOW = 'camera; microphone; display-capture; autoplay; clipboard-write; fullscreen';
