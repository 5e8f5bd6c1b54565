/**
 * Stable codes, so scripts and tests can tell failures apart without matching on wording.
 * The message is for a person: it says what is wrong and what to do about it.
 */
export type PersistedErrorCode =
  | 'INVALID_CLIENT_NAME'
  | 'INVALID_MANIFEST_NAME'
  | 'INVALID_CLIENT'
  | 'INVALID_OPERATIONS'
  | 'INVALID_STORE_OPTIONS'
  | 'MANIFEST_UNREADABLE'
  | 'MANIFEST_INVALID_JSON'
  | 'MANIFEST_INVALID'
  | 'SUPERGRAPH_INVALID'
  | 'UNKNOWN_CLIENT'
  | 'CLIENT_EXISTS'
  | 'STORE_CORRUPT'
  | 'STORE_EMPTY';

export class PersistedError extends Error {
  override readonly name = 'PersistedError';
  constructor(
    readonly code: PersistedErrorCode,
    message: string,
    /** One line per problem, when there are several (e.g. every bad field of a manifest). */
    readonly problems: string[] = [],
  ) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
  }
}
