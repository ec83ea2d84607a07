/**
 * The loopback listener for the browser's return (RFC 8252). Only an answer carrying the state this
 * process chose settles the login; any other request (a stray tab, a page probing local ports) gets a
 * page saying it is not for this command, and the command keeps waiting.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeHtml, pageStart } from '../../generator/http/views/html.js';
import { NAME } from '../errors.js';

export type LoopbackAnswer = { url: URL } | { error: string };

/** The page the browser lands on, in the generator's own style (its stylesheet, from the generator). */
function page(base: string, title: string, text: string, failed = false): string {
  return `${pageStart(title, base)}
<main><section${failed ? ' class="error"' : ''}><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>
<p class="muted">This page comes from the <code>${NAME}</code> command on this computer.</p></section></main>
</body>
</html>
`;
}

function answerOf(url: URL): { answer: LoopbackAnswer; status: number; title: string; text: string } {
  const error = url.searchParams.get('error');
  if (!url.searchParams.get('code') || error) {
    const reason =
      error === 'access_denied'
        ? 'you denied the command line in the browser'
        : `the login failed: ${url.searchParams.get('error_description') ?? error ?? 'no reason given'}`;
    return { answer: { error: reason }, status: 200, title: 'No tokens for the command line', text: 'You can close this window.' };
  }
  return { answer: { url }, status: 200, title: 'Logged in', text: 'You can close this window and go back to the terminal.' };
}

export async function loopbackListener(base: string, state: string) {
  let settle!: (answer: LoopbackAnswer) => void;
  const arrived = new Promise<LoopbackAnswer>((resolve) => (settle = resolve));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const html = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('state') !== state) {
      const text = 'This login answer does not belong to the command that is waiting; it keeps waiting for its own.';
      res.writeHead(400, html).end(page(base, 'Login not for this command', text, true));
      return;
    }
    const { answer, status, title, text } = answerOf(url);
    res.writeHead(status, html).end(page(base, title, text, 'error' in answer));
    settle(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, arrived, close };
}
