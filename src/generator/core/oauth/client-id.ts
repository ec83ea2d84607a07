/**
 * Whether a code (an authorization code, a device code) is presented by another tool than the one it was issued to. The
 * `client_id` is a name a tool gives itself, not a secret, so this catches mix-ups (RFC 6749 §5.2), and a tool that
 * sends none is taken at its word, as one without a secret may leave it out (RFC 6749 §3.2.1).
 */
export function sentByAnotherTool(sent: string | undefined, issuedTo: string): boolean {
  return sent !== undefined && sent !== issuedTo;
}
