import type { InternalClaims } from './internal-auth.ts';

/** The caller of a subgraph request, as the gateway verified and signed it. */
export type Identity = InternalClaims;
