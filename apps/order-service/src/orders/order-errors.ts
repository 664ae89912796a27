/** Errors of order creation, mapped to HTTP answers by the controller's filter. */

/** The order could not be stored; its half message was rolled back, nothing will be charged. */
export class OrderNotCreatedError extends Error {
  constructor(
    readonly orderId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `order ${orderId} was not created: ${String((options?.cause as Error | undefined)?.message ?? options?.cause)}`,
      options,
    );
    this.name = 'OrderNotCreatedError';
  }
}

/**
 * The database commit's outcome is unknown (the connection broke during COMMIT): the half message
 * waits for the broker's check-back, which reads the transaction log and decides.
 */
export class OrderOutcomeUnknownError extends Error {
  constructor(
    readonly orderId: string,
    options?: { cause?: unknown },
  ) {
    super(`order ${orderId}: the database commit's outcome is unknown; the check-back will decide`, options);
    this.name = 'OrderOutcomeUnknownError';
  }
}
