import { StatusCode } from '../status-code.js';
import { SendFlowControl } from './send-flow-control.js';

describe('SendFlowControl', () => {
  it('admits requests up to the cap, refuses beyond it with 42900, and admits again once released', () => {
    const flow = new SendFlowControl(100);
    const a = flow.acquire(60);
    expect(() => flow.acquire(50)).toThrow(expect.objectContaining({ code: StatusCode.TOO_MANY_REQUESTS }));
    const b = flow.acquire(40);
    expect(flow.inFlightBytes).toBe(100);
    a();
    a(); // releasing twice gives nothing back twice
    expect(flow.inFlightBytes).toBe(40);
    b();
    expect(flow.inFlightBytes).toBe(0);
  });

  it('lets one request larger than the cap through when nothing else is in flight', () => {
    const flow = new SendFlowControl(100);
    const big = flow.acquire(500);
    expect(() => flow.acquire(1)).toThrow(expect.objectContaining({ code: StatusCode.TOO_MANY_REQUESTS }));
    big();
    expect(() => flow.acquire(1)()).not.toThrow();
  });

  it('refuses a cap that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new SendFlowControl(bad)).toThrow(RangeError);
  });
});
