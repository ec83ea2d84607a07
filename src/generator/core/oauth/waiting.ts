/**
 * A tool's answer is handed out, and its grant used up, only while the tool still waits for it. A tool that gave up (its
 * own timeout while the identity provider was slow, its connection closed) sends the same request again: had the answer
 * it never read used up its code, device code or refresh token, that retry would be refused as a copy, and a refresh
 * token's session ended. The surface says how it knows (the HTTP connection still open); the grants look right before
 * each step that would use the grant up.
 */
import { refuse } from '../problem.js';

/** Whether the tool still waits for its answer. */
export type Waiting = () => boolean;

/** Refuses, with nothing used up, once the tool stopped waiting. */
export function refuseGone(waiting: Waiting | undefined): void {
  if (waiting && !waiting())
    throw refuse('tool_gone', 'The tool stopped waiting before its answer was ready: nothing was used up; send the request again.');
}
