/**
 * The device flow's pages: where the employee enters a user code, and where they approve a device.
 * The approval is built against phishing by a link (RFC 8628 §5.4): the page shows only the first
 * half of the user code and asks for the rest as the device shows it, so that an employee who did
 * not start the flow on a device in front of them has nothing to type; the tool's name is shown as
 * the tool's own claim, the target and a plain warning come before the buttons, and the Allow
 * button is armed only once the page has been visible for a moment (no double-click onto it). The script
 * disarms it as the page loads; without the script it works, and the server refuses an Allow that comes
 * sooner than a reader could have read the page (`READING_MS`).
 */
import { escapeHtml, tenantNote } from '../views/html.js';
import { PATHS } from '../../../paths.js';
import type { DeviceAuthorization } from '../../core/device-authorizations.js';

/** How long the page must have been visible before Allow works: longer than the server's `READING_MS`, so that an armed Allow counts. */
export const ARM_MS = 1500;

export function codeForm(loginDomain: string, message?: string): string {
  return `<h1>Connect a device</h1>
${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<p>Enter the code your tool shows, for example <code>BCDF-GHJK</code>.</p>
${tenantNote(loginDomain)}
<form method="get" action="${PATHS.deviceVerification}">
<label for="user_code">Code</label> <input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" maxlength="20"
required>
<button type="submit">Continue</button>
</form>`;
}

export interface ApprovalPage {
  authorization: DeviceAuthorization;
  who: string;
  csrfToken: string;
  message?: string;
}

export function approvalPage({ authorization, who, csrfToken, message }: ApprovalPage): string {
  const shown = `${authorization.userCode.slice(0, 4)}-\u2022\u2022\u2022\u2022`;
  return `<h1>Connect a device to get tokens as ${escapeHtml(who)}?</h1>
${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<p class="warning"><strong>Only continue if you started this yourself, on a device in front of you.</strong> If someone sent you a link
to this page, or asked you to approve something, deny: whoever started it would get tokens as you.</p>
<dl>
<dt>Tool</dt><dd>A tool that calls itself <q>${escapeHtml(authorization.client)}</q> (any tool can give itself any name).</dd>
<dt>Target</dt><dd><code>${escapeHtml(authorization.target)}</code>: tokens on your behalf for it, until the tool's session ends.</dd>
<dt>Asked from</dt><dd>the address <code>${escapeHtml(authorization.address)}</code> with the user agent
<code>${escapeHtml(authorization.userAgent || 'none')}</code></dd>
<dt>Code</dt><dd><code>${escapeHtml(shown)}</code></dd>
</dl>
<form method="post" action="${PATHS.deviceVerification}">
<input type="hidden" name="csrf_token" value="${escapeHtml(csrfToken)}">
<label for="typed_code">Type the code as your device shows it (all of it, or its last four letters)</label>
<input id="typed_code" name="typed_code" autocomplete="off" autocapitalize="characters" maxlength="20" required>
<button type="submit" name="decision" value="allow" data-arm="${ARM_MS}">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary" formnovalidate>Deny</button>
</form>`;
}
