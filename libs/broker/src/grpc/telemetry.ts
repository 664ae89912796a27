/**
 * Telemetry (PLACEHOLDER of grpc-core, owned by grpc-streams from here on): answers every inbound
 * command with NOT_IMPLEMENTED and ends the stream with OK when the client half-closes or the server
 * shuts down.
 */
import { type handleBidiStreamingCall } from '@grpc/grpc-js';
import { StatusCode } from '../status-code.js';
import { type HandlerDeps } from './handler-deps.js';
import { type TelemetryCommand } from './proto-types.js';

export function telemetryHandler(
  deps: HandlerDeps,
): handleBidiStreamingCall<TelemetryCommand, TelemetryCommand> {
  return (call) => {
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      deps.shutdown.removeEventListener('abort', end);
      call.end();
    };
    deps.shutdown.addEventListener('abort', end);
    call.on('data', () => {
      if (!ended) {
        call.write({
          status: { code: StatusCode.NOT_IMPLEMENTED, message: 'telemetry is not implemented yet' },
        });
      }
    });
    call.on('end', end);
    call.on('error', end);
    call.on('cancelled', end);
  };
}
