import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export interface EncoderOptions {
  /** Compress for clients that accept br or gzip. */
  compress: boolean;
  /** Answers smaller than this go out uncompressed: compressing them costs more than it saves. */
  minBytes: number;
}

type Encoded = { encoding?: string; data: Buffer };

/** The bytes to send for a complete answer, by the client's Accept-Encoding. */
export type Encoder = (acceptEncoding: string | undefined, body: { string: string }) => Promise<Encoded | null>;
type Encoding = 'br' | 'gzip' | 'identity';

/**
 * The bytes of an answer, made once per answer: requests that share an answer (inbound
 * deduplication) share its UTF-8 bytes, and its compression when the client accepts one, instead
 * of each paying for them again on the socket write. Compression (brotli preferred, then gzip) runs
 * at low levels on libuv's thread pool: most of the size win for a fraction of the CPU (measured
 * in tools/bench/RESULTS.md).
 */
export function createEncoder(options: EncoderOptions): Encoder {
  const memo = new WeakMap<object, Map<Encoding, Promise<Encoded>>>();
  return async (acceptEncoding, body) => {
    const encoding: Encoding =
      options.compress && acceptEncoding && body.string.length >= options.minBytes ? (pick(acceptEncoding) ?? 'identity') : 'identity';
    let byEncoding = memo.get(body);
    if (!byEncoding) memo.set(body, (byEncoding = new Map()));
    let encoded = byEncoding.get(encoding);
    if (!encoded) {
      encoded =
        encoding === 'identity'
          ? Promise.resolve({ data: Buffer.from(body.string) })
          : (encoding === 'br'
              ? brotliAsync(body.string, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })
              : gzipAsync(body.string, { level: 1 })
            ).then((data) => ({ encoding, data }));
      byEncoding.set(encoding, encoded);
    }
    return encoded;
  };
}

/** The encoding to use: br over gzip when both are accepted; q=0 refuses one. */
function pick(acceptEncoding: string): 'br' | 'gzip' | null {
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p))) continue;
    if (name) accepted.add(name.trim());
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return null;
}
