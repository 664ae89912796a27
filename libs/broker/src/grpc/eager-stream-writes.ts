/**
 * A server interceptor that hands a streaming answer's frames to HTTP/2 together instead of one at a
 * time.
 *
 * grpc-js's `ServerWritableStream` is a `Writable` without `_writev`: it passes a frame on
 * (`sendMessage`) and the next one only when the first one's HTTP/2 write has completed, which is
 * at least one event-loop turn per frame. A ReceiveMessage answer is one frame per message (the
 * protocol's shape), so 32 messages took 34 turns, each with a native write request and its
 * completion callbacks: about a third of the broker's main thread while a consumer drained a
 * backlog, and 7 ms before the last frame left.
 *
 * Here each frame is acknowledged as soon as it is handed to the HTTP/2 stream, so the writable
 * passes the whole answer on at once; Node's HTTP/2 stream buffers what arrives while its first
 * write is under way and writes the rest with one `writev`. Measured on a 30,000-message drain, 3
 * interleaved pairs: the broker's main thread used 12 % less CPU, the client 9 % less (its frames
 * arrive 4–5 to a chunk instead of one), and the drain ran 6 % faster.
 *
 * What this changes:
 *
 * - **Backpressure.** The writable no longer waits for the socket between frames. That is safe
 *   only for answers whose size the server already bounds. ReceiveMessage answers are bounded to
 *   the batch size and 4 MiB (receive-message-frames.ts), which is why only they are passed.
 * - **A failed write.** It is still answered by grpc-js's own call, which ends the call with
 *   INTERNAL; the frames after it are dropped, as before.
 * - **'finish'.** The writable now emits it once the frames are queued for the socket, not once
 *   they are written.
 */
import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';

const ignoreCompletion = (): void => undefined;

/** Passes everything on unchanged, and acknowledges each message as soon as it is passed on. */
export class EagerWriteCall extends ServerInterceptingCall {
  override sendMessage(message: unknown, callback: () => void): void {
    super.sendMessage(message, ignoreCompletion);
    callback();
  }
}

/**
 * The interceptor, for the methods at `paths` (e.g. `/apache.rocketmq.v2.MessagingService/ReceiveMessage`);
 * every other call is returned itself, with no pass-through layer on every unary call. grpc-js types
 * an interceptor's result as its `ServerInterceptingCall` class but uses only the interface (its own
 * chain starts from a call that is not that class), hence the cast.
 */
export function eagerStreamWrites(paths: readonly string[]): ServerInterceptor {
  const eager = new Set(paths);
  return (method, call) =>
    eager.has(method.path) ? new EagerWriteCall(call) : (call as ServerInterceptingCall);
}
