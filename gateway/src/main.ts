// The gateway's entry point (`node gateway/dist/main.js`, the image, `npm start`). First the node
// flags (the heap cap, from GATEWAY_HEAP_MB): they must be given when the process starts, so a
// process without them starts itself again with them (service-kit's node-flags.ts). Only then is the gateway
// loaded, by a dynamic import: a static one would load it, and its tracing, in the process that
// is about to be replaced.
// The kit's subpath, not its index: this process must load nothing but Node's built-ins before the re-exec.
import { runWithNodeFlags } from '@shop/service-kit/node-flags';

if (runWithNodeFlags('gateway')) await import('./serve.ts');
