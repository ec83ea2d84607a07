/** The sign-in pages' style sheet and script, served from paths: inline ones would break the strict Content-Security-Policy. */

export const ASSETS_PATH = '/_emulator';
export const STYLE_PATH = `${ASSETS_PATH}/login.css`;
export const FORM_POST_SCRIPT_PATH = `${ASSETS_PATH}/form-post.js`;

export const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem 2.2rem;border-radius:6px;box-shadow:0 2px 6px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 .3rem}label{display:block;margin:.9rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #8a8886;border-radius:2px}
button{margin-top:1.4rem;width:100%;padding:.65rem;font:inherit;background:#0067b8;color:#fff;border:0;border-radius:2px;cursor:pointer}
button:hover{background:#005da6}
button.secondary{background:#fff;color:#0067b8;border:1px solid #0067b8}.muted{color:#605e5c;font-size:.85rem}
.error{color:#a4262c;background:#fde7e9;padding:.6rem;border-radius:2px}
ul.presets{list-style:none;padding:0;margin:.4rem 0 0}ul.presets li{margin:.25rem 0}code{font-size:.85em}
main:has(>.overview){max-width:min(80rem,calc(100vw - 6rem))}
.overview table{border-collapse:collapse;width:100%;font-size:.9rem}
.overview th,.overview td{text-align:left;vertical-align:top;padding:.35rem .4rem;border-bottom:1px solid #e1dfdd}
.overview td code{overflow-wrap:anywhere}`;

/** Submits the form_post form as soon as the page is read. */
export const FORM_POST_SCRIPT =
  `document.addEventListener('DOMContentLoaded',function(){var ` + `f=document.getElementById('form-post');if(f)f.submit();});\n`;

export const PAGE_POLICY =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";
