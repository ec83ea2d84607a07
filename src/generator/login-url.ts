/** Where a login starts, coming back to `returnTo`; `prompt: 'login'` asks the identity provider for a new sign-in (another person). */
export function loginUrl(returnTo: string, prompt?: 'login'): string {
  return `/oauth2/login?redirect=${encodeURIComponent(returnTo)}${prompt ? `&prompt=${prompt}` : ''}`;
}

export const LOGOUT_PATH = '/oauth2/logout';
