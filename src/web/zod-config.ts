// Zod's fast path probes `new Function('')`, which the server's Content-Security-Policy (no 'unsafe-eval')
// reports as a console error. The app parses a few small messages: the plain path is plenty.
import { z } from 'zod';

z.config({ jitless: true });
