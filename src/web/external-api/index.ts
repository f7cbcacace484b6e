// Entry of /external_api.js (built by vite.config.ts here as a classic script): the global JitsiMeetExternalAPI.
import '../zod-config.ts';
import { JitsiMeetExternalAPI } from './external-api.ts';

export default JitsiMeetExternalAPI;
