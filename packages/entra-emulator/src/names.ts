/** The shapes of the names the emulator takes: Kubernetes-style names, targets and tenant ids. */

import { NAME_PATTERN } from '../../../src/audience.js';

/** The generator's name rule: a cluster, a namespace or an app. */
export { NAME_PATTERN };

const name = NAME_PATTERN.source.slice(1, -1);

/** `cluster:namespace:app`. */
export const TARGET_PATTERN = new RegExp(`^${name}:${name}:${name}$`);

export const TENANT_PATTERN = /^[A-Za-z0-9.-]{1,100}$/;
