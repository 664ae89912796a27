/**
 * A minimal Nest microservice transport for tests: `dispatch(pattern, payload, context)` runs the
 * handler Nest registered for the pattern through its real pipeline (guards, interceptors, pipes,
 * `@Payload()` / `@Ctx()`), and resolves or rejects with what a transport would ack or retry on.
 */
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom, throwError, type Observable } from 'rxjs';

export class InMemoryTransport extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    callback();
  }

  close(): void {}

  on(): void {}

  unwrap<T>(): T {
    throw new Error('InMemoryTransport has no underlying client');
  }

  /** Runs the handler of `pattern`; resolves with its value (ack) or rejects with its error (retry). */
  async dispatch(pattern: string, payload: unknown, context: object): Promise<unknown> {
    const handler = this.getHandlerByPattern(pattern);
    if (handler === null) throw new Error(`no handler for ${pattern}`);
    const result = await handler(payload, context);
    return lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }
}

/**
 * Nest's default RPC exception filter replaces every error that is not an `RpcException` with
 * `{ status: 'error', message: 'Internal server error' }`; tests that look at the error's class
 * (and transports that read `retryable`) put this filter on the listener to keep the original.
 */
@Catch()
export class PassThroughRpcFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
