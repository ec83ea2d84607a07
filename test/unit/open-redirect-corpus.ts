/**
 * Return targets that must never be accepted after login: every way we know of writing
 * "another origin" so that a browser, or a URL parser on the way, reads it as one.
 */

const HOSTS = ['evil.com', 'evil.com/', 'evil.com/api/obo', 'evil.com?x=/', '127.0.0.1:8080', '[::1]', 'localhost.evil.com', 'evil.com#/'];

const protocolRelative = HOSTS.flatMap((host) => [`//${host}`, `///${host}`, `////${host}`, `/////${host}`]);

const backslashes = HOSTS.slice(0, 5).flatMap((host) => [
  `/\\${host}`,
  `\\/${host}`,
  `\\\\${host}`,
  `/\\/${host}`,
  `\\/\\/${host}`,
  `/api/obo\\..\\..\\${host}`,
  `/\\\\${host}`,
]);

const encoded = HOSTS.slice(0, 5).flatMap((host) => [
  `/%2F${host}`,
  `/%2f${host}`,
  `%2F%2F${host}`,
  `/%2F%2F${host}`,
  `/%5C${host}`,
  `/%5c${host}`,
  `%5C%5C${host}`,
  `/%252F${host}`,
  `/%252F%252F${host}`,
  `/%255C${host}`,
  `/%25252F${host}`,
  `%2F%5C${host}`,
  `/%09/${host}`,
  `/%0A/${host}`,
  `/%0D%0A/${host}`,
  `/%00/${host}`,
  `/%E3%80%82${host}`,
]);

const userinfo = [
  '//user@evil.com',
  '//user:pass@evil.com',
  '//localhost@evil.com',
  '//localhost:8080@evil.com',
  '/@evil.com',
  '/@evil.com/path',
  '/:@evil.com',
  '/%40evil.com',
  'http://localhost@evil.com',
  'https://localhost:8080@evil.com/api/obo',
  '@evil.com',
  'localhost@evil.com',
  '//evil.com%40localhost',
  '//%65vil.com',
];

const SCHEMES = [
  'javascript',
  'JavaScript',
  'JAVASCRIPT',
  'data',
  'DATA',
  'vbscript',
  'http',
  'https',
  'HTTPS',
  'file',
  'ftp',
  'blob',
  'view-source',
  'mailto',
  'tel',
];
const schemes = SCHEMES.flatMap((scheme) => [
  `${scheme}:alert(1)`,
  `${scheme}://evil.com`,
  `/${scheme}:alert(1)`.replace(/^\//, ''),
  ` ${scheme}:alert(1)`,
  `\t${scheme}:alert(1)`,
  `\u0000${scheme}:alert(1)`,
]);
const schemeTricks = [
  'java\tscript:alert(1)',
  'java\nscript:alert(1)',
  'java\rscript:alert(1)',
  'javascript&colon;alert(1)',
  'javascript%3Aalert(1)',
  'jav&#x09;ascript:alert(1)',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'data:text/html,<script>alert(1)</script>',
  'http:evil.com',
  'https:evil.com',
  'http:/evil.com',
  'https:/\\evil.com',
  'http:\\\\evil.com',
  'https://evil.com',
  'HTTPS://EVIL.COM',
  'http://evil.com/api/obo?aud=dev-gcp:a:b',
];

const whitespace = [
  ' /api/obo',
  '/api/obo ',
  '\t/api/obo',
  '/api/obo\t',
  '\n/api/obo',
  '/api\n/obo',
  '/api/obo\r\nSet-Cookie: x=y',
  '/\t/evil.com',
  '/\n/evil.com',
  '/\r/evil.com',
  '/ /evil.com',
  '/\u0000/evil.com',
  '/\u000b/evil.com',
  '/\u000c/evil.com',
  '/\u0085/evil.com',
  '/\u00a0/evil.com',
  '/\u1680/evil.com',
  '/\u2000/evil.com',
  '/\u200b/evil.com',
  '/\u2028/evil.com',
  '/\u2029/evil.com',
  '/\u3000/evil.com',
  '/\ufeff/evil.com',
  '\u0001//evil.com',
  '\u001f//evil.com',
  '/\u007f/evil.com',
];

const lookalikes = [
  '/\uff0f/evil.com',
  '\uff0f\uff0fevil.com',
  '/\u2215evil.com',
  '/\u2044evil.com',
  '/\u29f8evil.com',
  '/\uff3cevil.com',
  '/\ufe68evil.com',
  '/。evil.com',
  '/．evil.com',
  '/｡evil.com',
  '/%EF%BC%8Fevil.com',
  '/%E2%88%95evil.com',
];

const notPaths = [
  '',
  'evil.com',
  'api/obo',
  './api/obo',
  '../api/obo',
  '?x=1',
  '#frag',
  '.evil.com',
  'evil.com/api',
  `/${'a'.repeat(2100)}`,
];

export const OPEN_REDIRECT_PAYLOADS: string[] = [
  ...new Set([
    ...protocolRelative,
    ...backslashes,
    ...encoded,
    ...userinfo,
    ...schemes,
    ...schemeTricks,
    ...whitespace,
    ...lookalikes,
    ...notPaths,
  ]),
];

export const SAFE_RETURN_PATHS: string[] = [
  '/',
  '/api/obo',
  '/api/obo?aud=dev-gcp:my-team:my-app',
  '/api/obo?aud=dev-gcp.my-team.my-app',
  '/api/obo?aud=api://dev-gcp.my-team.my-app/.default',
  '/api/obo?aud=api%3A%2F%2Fdev-gcp.my-team.my-app%2F.default',
  '/api/obo?aud=dev-gcp%3Amy-team%3Amy-app',
  '/api/m2m?aud=dev-gcp:my-team:my-app',
  '/api/m2m?aud=dev-fss.team.app',
  '/api/obo?aud=dev-gcp:a:b&x=1',
  '/api/obo?aud=dev-gcp:a:b#token',
  '/api/obo#',
  '/oauth2/session',
  '/oauth2/logged-out',
  '/internal/isready',
  '/api/obo?aud=dev-gcp:a:b&redirect=//evil.com',
  '/api/obo?next=http://evil.com',
  '/api/obo/',
  '/api//obo',
  '/api/obo?aud=',
  '/api/obo?',
  '/a/b/c/d/e',
  '/api/obo?aud=dev-gcp:team-1:app-2',
  '/api/obo?aud=prod-gcp:t:a',
  '/static/app.css',
  '/api/obo?a=1&b=2&c=3',
  '/api/obo?aud=dev-gcp:a:b&fresh=true',
  '/api/obo?aud=%64ev-gcp:a:b',
  '/x?y=@z',
  '/path/with.dots/and-dashes_and~tilde',
  '/api/obo?aud=dev-gcp:my-team:my-app&cache=no',
];
