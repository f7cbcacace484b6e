// A participant's region, for focus's choice of bridge: what the load balancer put in the `regionHeader`
// request header of the WebSocket upgrade (a region name; anything else is ignored), else this signal
// server's own `region` setting, else none.
import type { IncomingHttpHeaders } from 'node:http';
import { regionSchema } from '../protocol/bus-messages.ts';

export interface RegionSettings {
  region: string;
  regionHeader: string;
}

export function participantRegion(headers: IncomingHttpHeaders, settings: RegionSettings): string | undefined {
  if (settings.regionHeader !== '') {
    const raw = headers[settings.regionHeader.toLowerCase()];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined && regionSchema.safeParse(value.trim()).success) return value.trim();
  }
  return settings.region === '' ? undefined : settings.region;
}
