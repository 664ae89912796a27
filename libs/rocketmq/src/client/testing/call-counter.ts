/** A grpc-js client interceptor that counts the calls of each method (by its last path segment). */
import { InterceptingCall, type Interceptor, type InterceptorOptions } from '@grpc/grpc-js';

export interface CallCounter {
  readonly interceptor: Interceptor;
  count(method: string): number;
}

export function callCounter(): CallCounter {
  const counts = new Map<string, number>();
  const interceptor: Interceptor = (options: InterceptorOptions, nextCall) => {
    const method = options.method_definition.path.split('/').pop()!;
    counts.set(method, (counts.get(method) ?? 0) + 1);
    return new InterceptingCall(nextCall(options));
  };
  return { interceptor, count: (method) => counts.get(method) ?? 0 };
}
