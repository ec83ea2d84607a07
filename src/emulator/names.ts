/** The shapes of the names the emulator takes: Kubernetes-style names, targets and tenant ids. */

/** A lower-case Kubernetes-style name: a cluster, a namespace or an app. */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

const name = NAME_PATTERN.source.slice(1, -1);

/** `cluster:namespace:app`. */
export const TARGET_PATTERN = new RegExp(`^${name}:${name}:${name}$`);

export const TENANT_PATTERN = /^[A-Za-z0-9.-]{1,100}$/;
