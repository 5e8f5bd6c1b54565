// The images' HEALTHCHECK: healthy while the service answers /ready with 200 (for a subgraph, its
// database reachable too; for the gateway, a supergraph loaded). Node's own fetch: the slim image
// has no curl or wget. The service's own PORT, on loopback, within 2 s.
const port = process.env.PORT ?? '4000';
try {
  const response = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
