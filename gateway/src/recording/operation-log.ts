import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RedisUnavailableError, type RedisConnection } from '@shop/service-kit';

/** What the gateway aggregated for one document and one client between two flushes. */
export interface RecordedUse {
  /** sha256 hex of the document with ignored characters stripped: the same operation however it is formatted. */
  documentHash: string;
  document: string;
  operationName: string | null;
  client: string;
  count: number;
  /** Epoch milliseconds of the last execution in the batch. */
  lastSeen: number;
}

/** One recorded document with who sends it, as schema:check reads it. */
export interface RecordedOperation {
  documentHash: string;
  document: string;
  operationName: string | null;
  clients: Array<{ client: string; count: number; lastSeen: number }>;
}

export interface OperationLogLimits {
  /** Documents not executed for this long are forgotten. */
  retentionMs: number;
  /** At most this many documents are kept; the least recently executed go first. */
  maxDocuments: number;
}

/**
 * Where recorded operations live: Redis when the gateway has one (every replica adds to the same
 * counts), else a file in the persisted store's directory (one machine).
 */
export interface OperationLog {
  readonly description: string;
  add(uses: readonly RecordedUse[], limits: OperationLogLimits): Promise<void>;
  list(): Promise<RecordedOperation[]>;
}

/**
 * Layout under the prefix (the gateway's REDIS_PREFIX + `ops:`):
 *   index            sorted set  document hash -> last seen (ms): what exists, trimmed by age and count
 *   doc:<hash>       hash        document, name, c:<client> -> count, s:<client> -> last seen (ms);
 *                                expires after the retention, renewed by every flush that saw it
 * One pipeline per flush, whatever the number of requests since the last one.
 */
export function redisOperationLog(redis: Pick<RedisConnection, 'run' | 'isUp'>, prefix: string): OperationLog {
  const index = `${prefix}index`;
  const doc = (hash: string) => `${prefix}doc:${hash}`;
  return {
    description: `Redis keys ${prefix}*`,
    async add(uses, { retentionMs, maxDocuments }) {
      if (uses.length === 0) return;
      // While Redis is known to be down, fail at once (the batch is kept): neither a flush nor a
      // shutdown's last flush waits a connect timeout for a Redis that is not there.
      if (!redis.isUp()) throw new RedisUnavailableError('Redis is unavailable');
      const now = Date.now();
      await redis.run(async (client) => {
        const pipeline = client.pipeline();
        for (const use of uses) {
          const key = doc(use.documentHash);
          pipeline.hset(key, 'document', use.document, 'name', use.operationName ?? '', `s:${use.client}`, String(use.lastSeen));
          pipeline.hincrby(key, `c:${use.client}`, use.count);
          pipeline.pexpire(key, retentionMs);
          pipeline.zadd(index, 'GT', use.lastSeen, use.documentHash);
        }
        pipeline.zremrangebyscore(index, '-inf', `(${now - retentionMs}`);
        // Keeps the maxDocuments most recently seen; the documents' own keys expire with the retention.
        pipeline.zremrangebyrank(index, 0, -(maxDocuments + 1));
        const replies = await pipeline.exec();
        const failed = replies?.find(([error]) => error);
        if (failed) throw failed[0];
      });
    },
    async list() {
      return redis.run(async (client) => {
        const hashes = await client.zrange(index, 0, -1);
        if (hashes.length === 0) return [];
        const pipeline = client.pipeline();
        for (const hash of hashes) pipeline.hgetall(doc(hash));
        const replies = (await pipeline.exec()) ?? [];
        const operations: RecordedOperation[] = [];
        hashes.forEach((hash, i) => {
          const [error, fields] = replies[i] ?? [null, null];
          if (error) throw error;
          const parsed = fromFields(hash, fields as Record<string, string> | null);
          if (parsed) operations.push(parsed);
        });
        return operations;
      });
    },
  };
}

function fromFields(documentHash: string, fields: Record<string, string> | null): RecordedOperation | null {
  if (!fields?.document) return null; // expired between ZRANGE and HGETALL
  const clients = new Map<string, { client: string; count: number; lastSeen: number }>();
  const entry = (client: string) => clients.get(client) ?? clients.set(client, { client, count: 0, lastSeen: 0 }).get(client)!;
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('c:')) entry(field.slice(2)).count = Number(value);
    else if (field.startsWith('s:')) entry(field.slice(2)).lastSeen = Number(value);
  }
  return { documentHash, document: fields.document, operationName: fields.name || null, clients: [...clients.values()] };
}

type FileContents = Record<string, { document: string; operationName: string | null; clients: Record<string, { count: number; lastSeen: number }> }>;

/**
 * Without Redis: `operations.json` in the persisted store's directory, read, merged and replaced
 * (write then rename) by each flush. With WORKERS>1 two workers flushing at once may lose one
 * flush's counts; use Redis there.
 */
export function fileOperationLog(dir: string): OperationLog {
  const path = join(dir, 'operations.json');
  const read = async (): Promise<FileContents> => {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as FileContents;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  };
  return {
    description: path,
    async add(uses, { retentionMs, maxDocuments }) {
      if (uses.length === 0) return;
      const contents = await read();
      for (const use of uses) {
        const entry = (contents[use.documentHash] ??= { document: use.document, operationName: use.operationName, clients: {} });
        const client = (entry.clients[use.client] ??= { count: 0, lastSeen: 0 });
        client.count += use.count;
        client.lastSeen = Math.max(client.lastSeen, use.lastSeen);
      }
      const cutoff = Date.now() - retentionMs;
      const lastSeen = (hash: string) => Math.max(0, ...Object.values(contents[hash]!.clients).map((c) => c.lastSeen));
      const kept = Object.keys(contents)
        .filter((hash) => lastSeen(hash) >= cutoff)
        .sort((a, b) => lastSeen(b) - lastSeen(a))
        .slice(0, maxDocuments);
      const next: FileContents = Object.fromEntries(kept.map((hash) => [hash, contents[hash]!]));
      await mkdir(dir, { recursive: true });
      await writeFile(`${path}.tmp`, JSON.stringify(next));
      await rename(`${path}.tmp`, path);
    },
    async list() {
      return Object.entries(await read()).map(([documentHash, entry]) => ({
        documentHash,
        document: entry.document,
        operationName: entry.operationName,
        clients: Object.entries(entry.clients).map(([client, use]) => ({ client, ...use })),
      }));
    },
  };
}
