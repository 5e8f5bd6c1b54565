/**
 * Monaco's editors run their language services in web workers. Each is built as its own file
 * beside this script (see explorer-build.ts) and loaded from the gateway, never from elsewhere.
 */
const workerUrl = (name: string) => new URL(`./${name}.worker.js`, import.meta.url);

(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    if (label === 'graphql') return new Worker(workerUrl('graphql'), { type: 'module' });
    if (label === 'json') return new Worker(workerUrl('json'), { type: 'module' });
    return new Worker(workerUrl('editor'), { type: 'module' });
  },
};
