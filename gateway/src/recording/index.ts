/** Recorded operations as the tools read them (`npm run schema:check`): which client executes which document. */
export { fileOperationLog, redisOperationLog, type OperationLog, type RecordedOperation, type RecordedUse } from './operation-log.ts';
