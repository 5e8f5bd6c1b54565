import { ConfigError } from '@shop/service-kit';
import { gatewayNodeFlags as flagsFromEnvironment, NodeFlagsConfigError } from '@shop/service-kit/node-flags';

/**
 * The node flags of the gateway (its heap cap), as its entry point applies them itself
 * (packages/service-kit/src/node-flags.ts). Launchers that start it (npm start, the bench, the chaos run) pass
 * the same flags on the command line: the entry then finds them in place and has nothing to
 * re-exec, which on Node 20 would leave a supervising parent process beside the gateway. A bad
 * value is a ConfigError, so the launcher exits 78 like for any other variable.
 */
export function gatewayNodeFlags(environment: NodeJS.ProcessEnv = process.env): string[] {
  try {
    return flagsFromEnvironment(environment);
  } catch (error) {
    if (error instanceof NodeFlagsConfigError) throw new ConfigError(error.problems);
    throw error;
  }
}
