import type { CheckResult } from './check.ts';
import type { ClientOperation } from './client-operations.ts';

const LABEL = { breaking: 'BREAKING ', dangerous: 'DANGEROUS', safe: 'safe     ' } as const;

/** `client acme, operation Top (published, manifest catalog)` / `client web, operation Cart (recorded: 12 runs, last 2026-12-07T10:00:00.000Z)` */
export function describeOperation(op: ClientOperation): string {
  const where =
    op.source === 'published'
      ? `published${op.manifest ? `, manifest ${op.manifest}` : ''}`
      : `recorded: ${op.count ?? 0} run(s), last ${op.lastSeen && !Number.isNaN(op.lastSeen.getTime()) ? op.lastSeen.toISOString() : 'unknown'}`;
  return `client ${op.client}, operation ${op.operationName} (${where})`;
}

/** The whole report, for people: every change classified, whom each breaking change breaks, deprecated fields in use. */
export function formatReport(result: CheckResult, header: string[]): string {
  const lines = [...header, ''];
  const count = (level: string) => result.changes.filter((c) => c.level === level).length;
  if (result.changes.length === 0) {
    lines.push('No changes to the API schema.');
  } else {
    lines.push(`${result.changes.length} change(s): ${count('breaking')} breaking, ${count('dangerous')} dangerous, ${count('safe')} safe`);
    const order = { breaking: 0, dangerous: 1, safe: 2 } as const;
    for (const change of [...result.changes].sort((a, b) => order[a.level] - order[b.level])) {
      lines.push(`  ${LABEL[change.level]}  ${change.message}${change.path ? `  [${change.path}]` : ''}`);
      if (change.level === 'dangerous') {
        if (change.reason) lines.push(`               ${change.reason}`);
        for (const op of change.usedBy) lines.push(`               check ${describeOperation(op)}`);
      }
      if (change.level !== 'breaking') continue;
      if (change.usedBy.length === 0) lines.push('               no client operation uses it');
      for (const op of change.usedBy) lines.push(`               breaks ${describeOperation(op)}`);
    }
  }
  const invalid = result.broken.filter((b) => b.errors.length > 0);
  if (invalid.length > 0) {
    lines.push('', `${invalid.length} client operation(s) no longer validate against the new schema:`);
    for (const { operation, errors } of invalid) {
      lines.push(`  ${describeOperation(operation)}`);
      for (const error of errors) lines.push(`      ${error}`);
    }
  }
  if (result.deprecated.length > 0) {
    lines.push('', 'Deprecated, still in use:');
    for (const use of result.deprecated) {
      lines.push(`  ${use.coordinate} (${use.reason})`);
      for (const op of use.usedBy) lines.push(`      ${describeOperation(op)}`);
    }
  }
  if (result.alreadyInvalid > 0) lines.push('', `${result.alreadyInvalid} client operation(s) were already invalid against the base schema; not counted.`);
  return `${lines.join('\n')}\n`;
}
