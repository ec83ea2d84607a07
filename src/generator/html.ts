/**
 * HTML for people: a plain layout, every value escaped, no inline script (so the strict
 * Content-Security-Policy holds); behaviour comes from /static/app.js.
 */

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The policy of a page whose form may lead to one other place (a tool's loopback address) besides this service. */
export function policyWithFormTarget(source: string): string {
  return CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${source}`);
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}
main{max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
section{background:#fff;border:1px solid #d9dce1;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
pre{background:#0f1419;color:#e6e9ee;padding:.75rem;border-radius:6px;overflow:auto;white-space:pre-wrap;word-break:break-all;font-size:.85rem}
code{font-size:.9em}
button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid #0067c5;background:#0067c5;color:#fff;cursor:pointer}
.muted{color:#5a6270;font-size:.9rem}
.error{border-color:#c30000}
.error h1{color:#c30000}
`;

export interface PageOptions {
  title: string;
  body: string;
  correlationId?: string;
  script?: boolean;
}

export function page(options: PageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<main>
${options.body}
${options.correlationId ? `<p class="muted">Correlation id: <code>${escapeHtml(options.correlationId)}</code></p>` : ''}
</main>
${options.script ? '<script src="/static/app.js"></script>' : ''}
</body>
</html>
`;
}

export const STYLESHEET = STYLE.trim();
