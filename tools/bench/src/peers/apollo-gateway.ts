/**
 * The baseline: plain @apollo/gateway under Apollo Server's standalone server, no plugins and
 * no tuning, the way the reference benchmark runs it.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { peerEnv } from './peer-env.ts';

const config = peerEnv();
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(config.SUPERGRAPH_PATH, 'utf8') });
const server = new ApolloServer({ gateway });
await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: config.PORT } });
process.send?.({ type: 'listening' });
