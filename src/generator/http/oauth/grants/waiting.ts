/**
 * A tool's answer handed out only while the tool still waits for it. A tool that gave up (its own timeout while the
 * identity provider was slow, its connection closed) sends the same request again: had the answer it never read used up
 * its code, device code or refresh token, that retry would be refused as a copy, and a refresh token's session ended.
 */
import { refuse } from '../../../core/problem.js';

/** Whether the tool has gone: its connection closed before the answer was sent. */
export type ToolGone = () => boolean;

/** `answer`, or a refusal that uses nothing up when the tool has gone meanwhile. */
export function whileWaiting<T>(gone: ToolGone, answer: T): T {
  if (gone())
    throw refuse('tool_gone', 'The tool stopped waiting before its answer was ready: nothing was used up; send the request again.');
  return answer;
}
