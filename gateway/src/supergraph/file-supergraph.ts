import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '@shop/observability';

export interface FileSupergraphOptions {
  path: string;
  pollMs: number;
  logger: Logger;
  /** Applied to the file's SDL before the gateway sees it. */
  transform?: (sdl: string) => string;
  /** Called after each successful (re)load, with a short id of the SDL. */
  onLoaded?: (id: string) => void;
}

const idOf = (sdl: string) => createHash('sha256').update(sdl).digest('hex').slice(0, 12);

/**
 * Serves the supergraph from a file and hot-reloads it. Polling (not inotify) because
 * deployments replace the file by rename or symlink swap (e.g. a Kubernetes ConfigMap),
 * which watchers on the old inode miss. A file the gateway cannot load is rejected and
 * the last good supergraph keeps serving.
 */
export function fileSupergraph(options: FileSupergraphOptions): SupergraphManager {
  const { path, logger } = options;
  return {
    async initialize({ update }) {
      const initial = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          `Cannot read the supergraph file ${path} (${error.code ?? error.message}). Run \`npm run compose\` or set SUPERGRAPH_PATH.`,
        );
      });
      const transform = options.transform ?? ((sdl: string) => sdl);
      let currentId = idOf(initial);
      let reloading = Promise.resolve();

      const reload = async () => {
        let sdl: string;
        try {
          sdl = await readFile(path, 'utf8');
        } catch (error) {
          logger.error({ err: error, path }, 'supergraph file unreadable; keeping the last good supergraph');
          return;
        }
        const id = idOf(sdl);
        if (id === currentId) return;
        try {
          update(transform(sdl));
          currentId = id;
          logger.info({ path, supergraphId: id }, 'supergraph reloaded');
          options.onLoaded?.(id);
        } catch (error) {
          logger.error(
            { err: error, path, rejectedId: id, servingId: currentId },
            'supergraph file rejected; keeping the last good supergraph',
          );
        }
      };
      const listener = (current: Stats, previous: Stats) => {
        if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
        reloading = reloading.then(reload);
      };
      watchFile(path, { interval: options.pollMs, persistent: false }, listener);
      queueMicrotask(() => options.onLoaded?.(currentId));

      return {
        supergraphSdl: transform(initial),
        async cleanup() {
          unwatchFile(path, listener);
          await reloading;
        },
      };
    },
  };
}
