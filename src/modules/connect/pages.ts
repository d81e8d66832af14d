// The hosted connect pages: server-rendered, no script, no external assets (the
// stylesheet is inline and allowed by its hash), usable by keyboard and screen
// reader (labels, landmarks, an error summary that names each field), legible
// (contrast above WCAG AA) and responsive (one column, fluid width).
import { createHash } from 'node:crypto';
import type { AuthField } from '../catalog/catalog.js';
import { html, Html } from './html.js';

const CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:100%;line-height:1.5;color:#1a1a1a;background:#eef0f3}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;padding:2rem 1rem}
main{width:100%;max-width:30rem;background:#fff;border:1px solid #c9ced6;border-radius:.75rem;padding:1.75rem 1.5rem}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 1rem}
h2{font-size:1rem;margin:1.25rem 0 .5rem}
p{margin:0 0 1rem}
.org{margin:0;font-size:.875rem;font-weight:600;color:#3d4451;text-transform:uppercase;letter-spacing:.04em}
.note{font-size:.875rem;color:#3d4451}
ul{margin:0 0 1rem;padding-left:1.25rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem;overflow-wrap:anywhere}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input{display:block;width:100%;font:inherit;padding:.625rem .75rem;border:2px solid #5b6472;border-radius:.375rem;color:#1a1a1a;background:#fff}
input[aria-invalid="true"]{border-color:#b42318}
.field-error{color:#b42318;font-size:.875rem;margin:.25rem 0 0}
.errors{border:2px solid #b42318;border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1rem}
.errors h2{margin-top:0;color:#b42318}
.errors a{color:#b42318}
.button{display:block;width:100%;text-align:center;font:inherit;font-weight:600;padding:.75rem 1rem;border:0;border-radius:.5rem;background:#1d4ed8;color:#fff;text-decoration:none;cursor:pointer}
.button:hover{background:#1e40af}
a{color:#1d4ed8}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.button:focus-visible{outline-color:#1a1a1a}
footer{margin-top:1.25rem;font-size:.8125rem;color:#3d4451}
@media (max-width:30rem){body{padding:0}main{border-radius:0;border-left:0;border-right:0;min-height:100vh}}
`;

/** The CSP source that allows exactly this stylesheet. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;
/** Verbatim, not escaped: a constant, allowed by its hash. */
const STYLESHEET = new Html(CSS);

export interface Page {
  status: number;
  body: Html;
}

function layout(title: string, main: Html, head: Html = html``): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
${head}<title>${title}</title>
<style>${STYLESHEET}</style>
</head>
<body>
<main>
${main}
</main>
<footer>Secured by Heddle</footer>
</body>
</html>
`;
}

export interface ConnectContext {
  organization: string;
  integration: string;
}

/** OAuth2: what the organization asks for, and the way to the provider. */
export function consentPage(ctx: ConnectContext & { scopes: string[]; providerHost: string; authorizeHref: string }): Page {
  const { organization, integration } = ctx;
  return {
    status: 200,
    body: layout(
      `Connect ${integration} · ${organization}`,
      html`<p class="org">${organization}</p>
<h1>Connect your ${integration} account</h1>
<p>${organization} is asking for access to your ${integration} account. You will sign in at <strong>${ctx.providerHost}</strong> and choose whether to allow it.</p>
<h2>What ${organization} asks for</h2>
${
  ctx.scopes.length
    ? html`<ul>${ctx.scopes.map((scope) => html`<li><code>${scope}</code></li>`)}</ul>`
    : html`<p>The access ${integration} grants by default.</p>`
}
<p class="note">Your ${integration} password is never shared. The access you grant is stored encrypted by Heddle on behalf of ${organization}; you can revoke it in your ${integration} account settings at any time.</p>
<a class="button" href="${ctx.authorizeHref}">Continue to ${integration}</a>`,
    ),
  };
}

export interface FormState {
  /** Values to show again after an error: never a secret field's. */
  values: Record<string, string>;
  errors: { field: string; message: string }[];
}

/** SECRET_TEXT, BASIC_AUTH, CUSTOM_AUTH: the catalog's fields, posted back with the CSRF token. */
export function formPage(ctx: ConnectContext & { fields: AuthField[]; csrf: string; state?: FormState }): Page {
  const { organization, integration, fields } = ctx;
  const errors = ctx.state?.errors ?? [];
  const errorOf = (name: string) => errors.find((error) => error.field === name)?.message;
  const labelOf = (name: string) => fields.find((field) => field.name === name)?.displayName ?? name;
  return {
    status: errors.length ? 422 : 200,
    body: layout(
      `${errors.length ? 'Error: ' : ''}Connect ${integration} · ${organization}`,
      html`<p class="org">${organization}</p>
<h1>Connect your ${integration} account</h1>
<p>${organization} needs the following to act for you in ${integration}. It is sent only to Heddle, which stores it encrypted on behalf of ${organization}.</p>
${
  errors.length
    ? html`<div class="errors" role="alert">
<h2>Please correct ${errors.length === 1 ? 'this field' : 'these fields'}</h2>
<ul>${errors.map((error) => html`<li><a href="#field-${error.field}">${labelOf(error.field)}: ${error.message}</a></li>`)}</ul>
</div>`
    : ''
}
<form method="post">
<input type="hidden" name="csrf" value="${ctx.csrf}">
${fields.map((field) => {
  const error = errorOf(field.name);
  const id = `field-${field.name}`;
  return html`<div class="field">
<label for="${id}">${field.displayName}</label>
<input id="${id}" name="${field.name}" type="${field.secret ? 'password' : 'text'}" required maxlength="16384" autocomplete="off" autocapitalize="off" spellcheck="false"${
    field.secret ? '' : html` value="${ctx.state?.values[field.name] ?? ''}"`
  }${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
</div>`;
})}
<button class="button" type="submit">Connect ${integration}</button>
</form>`,
    ),
  };
}

/**
 * The end of the flow when the browser is not redirected at once: after a form
 * (CSP form-action keeps a form's redirect on Heddle's origin, so the page
 * returns by a refresh), or when the workspace no longer allows the origin of
 * redirectUrl (then there is no way back but closing the window).
 */
export function endedPage(ctx: ConnectContext & { connected: boolean; returnTo: string | null }): Page {
  const title = ctx.connected ? `${ctx.integration} is connected` : `${ctx.integration} was not connected`;
  return {
    status: 200,
    body: layout(
      `${title} · ${ctx.organization}`,
      html`<p class="org">${ctx.organization}</p>
<h1>${title}</h1>
${
  ctx.returnTo
    ? html`<p>Taking you back to ${ctx.organization}…</p>
<a class="button" href="${ctx.returnTo}">Return to ${ctx.organization}</a>`
    : html`<p>You can close this window and return to ${ctx.organization}.</p>`
}`,
      ctx.returnTo ? html`<meta http-equiv="refresh" content="0; url=${ctx.returnTo}">\n` : undefined,
    ),
  };
}

/** Every dead end: a status, a title and what to do next; never a stack trace. */
export function errorPage(status: number, title: string, message: string): Page {
  return { status, body: layout(title, html`<h1>${title}</h1>\n<p>${message}</p>`) };
}

export const ERROR_PAGES = {
  notFound: () => errorPage(404, 'Link not valid', 'This connect link does not exist. Go back to the app that sent you here and start again.'),
  expired: () => errorPage(410, 'Link expired', 'This connect link has expired. Go back to the app that sent you here and start again.'),
  used: () => errorPage(410, 'Link already used', 'This connect link has already been used. Go back to the app that sent you here and start again.'),
  unavailable: () =>
    errorPage(410, 'Connection not available', 'This integration can no longer be connected here. Go back to the app that sent you here.'),
  otherBrowser: () =>
    errorPage(
      403,
      'Start again in this browser',
      'This page was opened in another browser or tab, or it is out of date. Go back to the app that sent you here and start again.',
    ),
  badRequest: () => errorPage(400, 'Request not valid', 'The request was incomplete or malformed. Go back to the app that sent you here and start again.'),
  methodNotAllowed: () => errorPage(405, 'Method not allowed', 'This page does not accept that kind of request.'),
  tooLarge: () => errorPage(413, 'Request too large', 'What was sent is too large.'),
  tooManyRequests: () => errorPage(429, 'Too many requests', 'Please wait a minute and try again.'),
  failed: () => errorPage(500, 'Something went wrong', 'Heddle could not finish this step. Go back to the app that sent you here and try again.'),
};
