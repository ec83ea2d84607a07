/**
 * What the HTTP server and the cached-token lane learnt of a request before Fastify saw it, in one
 * typed record on the raw request: the correlation id the server chose (Fastify's request id), and,
 * for a request the lane read but handed on, its body and the rate-limit verdict the lane took, so
 * that the route neither reads the body nor counts the request a second time.
 */
import type { IncomingMessage } from 'node:http';
import type { Verdict } from './core/limits.js';

export interface LaneState {
  /** The correlation id the server chose; Fastify takes it as the request id (`genReqId`). */
  readonly correlationId: string;
  /** The body the lane read; `replayLaneBody` hands it to the route. */
  body: Buffer | undefined;
  /** The rate-limit verdict the lane took; the route's hook uses it instead of counting again. */
  verdict: Verdict | undefined;
}

const LANE_STATE = Symbol('lane state');
type LaneRequest = IncomingMessage & { [LANE_STATE]?: LaneState };

/** Starts the record of a request as the server receives it. */
export function startLaneState(request: IncomingMessage, correlationId: string): LaneState {
  // Every field set here, in one shape: the lane's later writes do not change the object's layout.
  const state: LaneState = { correlationId, body: undefined, verdict: undefined };
  (request as LaneRequest)[LANE_STATE] = state;
  return state;
}

/** The record of a request the server received; undefined for one it did not (Fastify's `inject`). */
export function laneStateOf(request: IncomingMessage): LaneState | undefined {
  return (request as LaneRequest)[LANE_STATE];
}
