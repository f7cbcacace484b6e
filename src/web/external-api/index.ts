// Entry of /external_api.js (built by vite.config.ts here as a classic script): the global JitsiMeetExternalAPI.
import { z } from 'zod/mini';
import { JitsiMeetExternalAPI } from './external-api.ts';

// no `new Function` probe: the host page's CSP may forbid eval, and the messages are small
z.config({ jitless: true });

export default JitsiMeetExternalAPI;
