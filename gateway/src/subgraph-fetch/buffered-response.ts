import type { FetcherResponse } from '@apollo/utils.fetcher';
import { Headers } from 'undici';

/**
 * A subgraph answer already read in full, in the shape RemoteGraphQLDataSource reads (status,
 * headers, text/json). Cheaper than a WHATWG Response per fetch, and the body text can back
 * several of them (deduplicated fetches) while each caller still parses its own copy.
 */
export class BufferedResponse implements FetcherResponse {
  readonly redirected = false;
  bodyUsed = false;
  readonly headers: Headers;

  constructor(
    readonly url: string,
    readonly status: number,
    headers: Headers | Iterable<[string, string]> | Record<string, string | string[] | undefined>,
    private readonly body: string,
    readonly statusText = '',
  ) {
    if (headers instanceof Headers) this.headers = headers;
    else if (Symbol.iterator in headers) this.headers = new Headers([...(headers as Iterable<[string, string]>)]);
    else {
      this.headers = new Headers();
      for (const [name, value] of Object.entries(headers)) {
        if (Array.isArray(value)) for (const v of value) this.headers.append(name, v);
        else if (value !== undefined) this.headers.set(name, value);
      }
    }
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  async text(): Promise<string> {
    this.bodyUsed = true;
    return this.body;
  }

  async json(): Promise<unknown> {
    this.bodyUsed = true;
    return JSON.parse(this.body) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    const bytes = Buffer.from(this.body);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  clone(): BufferedResponse {
    return new BufferedResponse(this.url, this.status, new Headers(this.headers), this.body, this.statusText);
  }
}
