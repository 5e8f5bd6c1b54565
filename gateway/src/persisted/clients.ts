import { createHash, randomBytes } from 'node:crypto';
import { PersistedError } from './errors.ts';
import { clientNameSchema, policySchema, validated } from './records.ts';
import type { ClientRecord, DocumentPolicy, PersistedStore } from './types.ts';

/** `shop_` marks the key as ours in logs and secret scanners; 32 random bytes make it unguessable. */
export function generateApiKey(): string {
  return `shop_${randomBytes(32).toString('base64url')}`;
}

/** How an API key is stored and looked up: sha256 hex of the whole key as sent, prefix included. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

export interface AddClientOptions {
  name: string;
  policy?: DocumentPolicy;
  /** Replace the key of an existing client (its policy and creation date are kept unless a policy is given). */
  rotateKey?: boolean;
  /** A client identified only by a token claim: no API key. */
  tokenOnly?: boolean;
}

export interface AddedClient {
  client: ClientRecord;
  /** The only time the key exists outside its holder: show it once, never store it. */
  apiKey: string | null;
  rotated: boolean;
}

export async function addClient(store: PersistedStore, options: AddClientOptions): Promise<AddedClient> {
  const name = validated(clientNameSchema, options.name, 'INVALID_CLIENT_NAME', 'client name');
  const policy = options.policy === undefined ? undefined : validated(policySchema, options.policy, 'INVALID_CLIENT', 'policy');
  const existing = (await store.load()).clientsByName.get(name);
  if (existing && !options.rotateKey) {
    throw new PersistedError('CLIENT_EXISTS', `Client "${name}" already exists; pass --rotate-key to give it a new API key (the old key stops working).`);
  }
  if (!existing && options.rotateKey) {
    throw new PersistedError('UNKNOWN_CLIENT', `No client named "${name}" to rotate; drop --rotate-key to create it.`);
  }
  const apiKey = options.tokenOnly ? null : generateApiKey();
  const client: ClientRecord = {
    name,
    // Partners call with keys and get enforcement unless someone decides otherwise.
    policy: policy ?? existing?.policy ?? 'enforce',
    apiKeyHash: apiKey === null ? null : hashApiKey(apiKey),
    createdAt: existing?.createdAt ?? new Date().toISOString(),
  };
  await store.putClient(client);
  return { client, apiKey, rotated: Boolean(existing) };
}

export async function setClientPolicy(store: PersistedStore, name: string, policy: string): Promise<ClientRecord> {
  const clientName = validated(clientNameSchema, name, 'INVALID_CLIENT_NAME', 'client name');
  const newPolicy = validated(policySchema, policy, 'INVALID_CLIENT', 'policy');
  const existing = (await store.load()).clientsByName.get(clientName);
  if (!existing) throw new PersistedError('UNKNOWN_CLIENT', `No client named "${clientName}"; see \`npm run pq -- clients list\`.`);
  const client = { ...existing, policy: newPolicy };
  await store.putClient(client);
  return client;
}
