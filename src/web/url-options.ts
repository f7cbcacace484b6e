// Jitsi-style options from the URL: `#config.startWithAudioMuted=true&userInfo.displayName="Ana"`.
// Values are URL-encoded JSON; a value that is not JSON is taken as a plain string.
import { safeDecodeURIComponent } from '../protocol/uri-decode.ts';
import { visibleDisplayName } from '../protocol/display-name.ts';

export interface UrlOptions {
  startWithAudioMuted: boolean;
  startWithVideoMuted: boolean;
  prejoinPageEnabled: boolean;
  displayName: string | undefined;
  /** Capture height in pixels (width is 16:9). */
  resolution: number;
  /** `config.defaultLanguage`, when given. */
  language: string | undefined;
  /** `config.hideConferenceTimer`: no meeting timer in the header. */
  hideConferenceTimer: boolean;
}

export const DEFAULT_RESOLUTION = 720;

/** Parses a location hash (with or without the leading '#') into key -> JSON value. */
export function parseHashParams(hash: string): Map<string, unknown> {
  const params = new Map<string, unknown>();
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!body) return params;
  for (const part of body.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const key = safeDecodeURIComponent(rawKey).trim();
    if (!key || key === '__proto__') continue;
    const decoded = safeDecodeURIComponent(rawValue);
    params.set(key, parseValue(decoded));
  }
  return params;
}

/**
 * A hash option by its dotted name, also when an object value holds it: the IFrame API sends nested settings as
 * one JSON object (`config.prejoinConfig={"enabled":false}`), a link may spell them out (`config.prejoinConfig.enabled=false`).
 */
export function hashOption(params: ReadonlyMap<string, unknown>, name: string): unknown {
  const parts = name.split('.');
  for (let i = parts.length; i > 0; i--) {
    const prefix = parts.slice(0, i).join('.');
    if (!params.has(prefix)) continue;
    let v: unknown = params.get(prefix);
    for (const key of parts.slice(i)) {
      v = v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
    }
    if (v !== undefined) return v;
  }
  return undefined;
}

function parseValue(s: string): unknown {
  if (s === '' || s === 'undefined') return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1) return true;
  if (v === 'false' || v === 0) return false;
  return undefined;
}

function asResolution(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  const h = Math.round(n);
  return h >= 90 && h <= 2160 ? h : undefined;
}

/** The options when the URL says nothing. */
export const DEFAULT_URL_OPTIONS: UrlOptions = {
  startWithAudioMuted: false,
  startWithVideoMuted: false,
  prejoinPageEnabled: true,
  displayName: undefined,
  resolution: DEFAULT_RESOLUTION,
  language: undefined,
  hideConferenceTimer: false,
};

/** The options `get` knows (dotted names as in the hash), each over its value in `base`; bad values are skipped. */
function readOptions(get: (name: string) => unknown, base: UrlOptions): UrlOptions {
  const prejoin = asBoolean(get('config.prejoinPageEnabled')) ?? asBoolean(get('config.prejoinConfig.enabled'));
  const name = get('userInfo.displayName');
  const lang = get('config.defaultLanguage');
  return {
    startWithAudioMuted: asBoolean(get('config.startWithAudioMuted')) ?? base.startWithAudioMuted,
    startWithVideoMuted: asBoolean(get('config.startWithVideoMuted')) ?? base.startWithVideoMuted,
    prejoinPageEnabled: prejoin ?? base.prejoinPageEnabled,
    displayName: (typeof name === 'string' ? visibleDisplayName(name) : '') || base.displayName,
    resolution: asResolution(get('config.resolution')) ?? base.resolution,
    language: typeof lang === 'string' ? lang : base.language,
    hideConferenceTimer: asBoolean(get('config.hideConferenceTimer')) ?? base.hideConferenceTimer,
  };
}

export function parseUrlOptions(hash: string): UrlOptions {
  const p = parseHashParams(hash);
  return readOptions((name) => hashOption(p, name), DEFAULT_URL_OPTIONS);
}

/**
 * Jitsi's overwriteConfig: the `config` keys of this file given in `config` (a config.js object, as
 * configOverwrite) over the current options. Unknown keys and values of the wrong type change nothing.
 */
export function overwriteUrlOptions(current: UrlOptions, config: Readonly<Record<string, unknown>>): UrlOptions {
  const p = new Map(Object.entries(config).map(([key, value]) => [`config.${key}`, value] as const));
  return readOptions((name) => (name.startsWith('config.') ? hashOption(p, name) : undefined), current);
}

/** getUserMedia video constraints for a capture height: 16:9, at most 30 frames per second. */
export function videoConstraints(height: number): MediaTrackConstraints {
  const width = Math.round((height * 16) / 9 / 2) * 2;
  return { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30, max: 30 } };
}

/** The room name from a path like `/Sala%20Uno` (undefined for the start page or an undecodable path). */
export function roomFromPath(pathname: string): string | undefined {
  const raw = pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!raw) return undefined;
  return safeDecodeURIComponent(raw);
}
