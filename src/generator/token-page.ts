/**
 * The page a person sees with a token: the token response as JSON, a copy button, the decoded
 * header and claims, the time left and a ready curl line.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { durationInWords } from '../duration.js';
import { escapeHtml, page } from './html.js';
import type { TokenResponseBody } from './tokens.js';

function decoded(token: string): { header: unknown; claims: unknown } {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return { header: {}, claims: {} };
  }
}

export function tokenPage(options: {
  title: string;
  target: string;
  body: TokenResponseBody;
  correlationId: string;
  who?: string;
}): string {
  const { body } = options;
  const { header, claims } = decoded(body.access_token);
  const json = JSON.stringify(body, null, 2);
  const curl = `curl -H "Authorization: Bearer ${body.access_token}" https://<your-api>`;
  const html = `<section>
<h1>${escapeHtml(options.title)}</h1>
<p>For <code>${escapeHtml(options.target)}</code>${options.who ? ` on behalf of <strong>${escapeHtml(options.who)}</strong>` : ''}.
Expires in <strong data-expires-in="${body.expires_in}">${escapeHtml(body.expires_in <= 0 ? 'expired' : durationInWords(body.expires_in))}</strong>.</p>
<p><button type="button" data-copy="access-token">Copy access token</button> <span class="muted" data-copy-status></span></p>
<h2>Token response</h2>
<pre id="token-response">${escapeHtml(json)}</pre>
<textarea id="access-token" hidden readonly>${escapeHtml(body.access_token)}</textarea>
<h2>Use it</h2>
<pre id="curl">${escapeHtml(curl)}</pre>
<h2>Header</h2>
<pre id="token-header">${escapeHtml(JSON.stringify(header, null, 2))}</pre>
<h2>Claims</h2>
<pre id="token-claims">${escapeHtml(JSON.stringify(claims, null, 2))}</pre>
</section>
<p class="muted"><a href="/oauth2/session">Session</a> · <a href="/oauth2/logout">Log out</a></p>`;
  return page({ title: options.title, body: html, correlationId: options.correlationId, script: true });
}

/** The page's only script: copy the token, count the time left down. Served from /static/app.js. */
export const PAGE_SCRIPT = `'use strict';
(function () {
  var button = document.querySelector('[data-copy]');
  var status = document.querySelector('[data-copy-status]');
  if (button) {
    button.addEventListener('click', function () {
      var source = document.getElementById(button.getAttribute('data-copy'));
      var text = source ? source.value : '';
      var done = function () { if (status) status.textContent = 'Copied.'; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { if (status) status.textContent = 'Copy failed: select the token in the response above.'; });
      }
    });
  }
  var left = document.querySelector('[data-expires-in]');
  if (left) {
    var end = Date.now() + Number(left.getAttribute('data-expires-in')) * 1000;
    var tick = function () {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      left.textContent = s <= 0 ? 'expired' : s < 90 ? s + ' seconds' : Math.round(s / 60) + ' minutes';
    };
    setInterval(tick, 1000);
  }
})();
`;
