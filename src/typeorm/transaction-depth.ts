/**
 * @internal How many transactions are open on the query runner (1: the
 * outermost, more: savepoints). TypeORM keeps it protected; it exists, with
 * this meaning, on every driver of 0.3.20+ and 1.x.
 */
export function transactionDepthOf(queryRunner: object): number {
  return (queryRunner as { transactionDepth?: number }).transactionDepth ?? 0
}
