/**
 * Flow control of SendMessage: a request holds its bodies in memory until the store has them, so a
 * burst of producers (or a slow disk under `sync` flush) could pin an unbounded amount of memory.
 * Beyond `maxBytes` of requests being stored at once, a send is refused with 42900
 * TOO_MANY_REQUESTS, as Apache's proxy answers when its broker flow-controls: RocketMQ producers back
 * off and retry on that code (the official Node producer waits a backoff first), so nothing is lost.
 */
import { RocketError, StatusCode } from '../status-code.js';

/**
 * Default cap: 256 MiB, 16 requests of the 16 MiB frame limit, far above what 2 CPUs store in the
 * time one request waits, so it only bites when the store falls behind.
 */
export const DEFAULT_MAX_IN_FLIGHT_SEND_BYTES = 256 * 1024 * 1024;

/** The broker is storing as much as it may hold; retry after a backoff (42900). */
export class TooManyRequestsError extends RocketError {
  constructor(inFlightBytes: number, maxBytes: number) {
    super(
      StatusCode.TOO_MANY_REQUESTS,
      `flow control: ${inFlightBytes} bytes of sends are being stored (limit ${maxBytes}); retry later`,
    );
  }
}

export class SendFlowControl {
  #inFlight = 0;

  constructor(readonly maxBytes: number = DEFAULT_MAX_IN_FLIGHT_SEND_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxInFlightSendBytes must be a positive integer, got ${maxBytes}`);
    }
  }

  /** Bytes of sends being stored now. */
  get inFlightBytes(): number {
    return this.#inFlight;
  }

  /**
   * Reserves `bytes` for a request; the returned function gives them back (call it once, when the
   * request is answered). A single request larger than the cap is let through when nothing else is
   * in flight, so that no valid request is refused forever.
   * @throws TooManyRequestsError
   */
  acquire(bytes: number): () => void {
    if (this.#inFlight > 0 && this.#inFlight + bytes > this.maxBytes) {
      throw new TooManyRequestsError(this.#inFlight, this.maxBytes);
    }
    this.#inFlight += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight -= bytes;
    };
  }
}
