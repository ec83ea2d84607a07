/** What an http(s) URL variable or option accepts, in a module of its own that needs no zod (the command line reads it at every start). */
export const isHttpUrl = (value: string): boolean => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

/** Without trailing slashes, so that paths can be appended. */
export const withoutTrailingSlash = (value: string): string => value.replace(/\/+$/, '');
