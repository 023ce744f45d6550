/**
 * Conflicts between the listeners of one Gateway and its ListenerSets.
 *
 * Listeners sharing a port must be distinct (Gateway API "Distinct
 * Listeners"): on a TCP port every listener must use the same protocol
 * (HTTP, HTTPS and TLS are each told apart only by hostname; a TCP listener
 * owns its port alone), and listeners of one protocol must have different
 * hostnames. UDP ports are a separate space from TCP ports.
 *
 * Listeners are merged in precedence order: the Gateway's own, then each
 * ListenerSet (oldest first, then namespace/name). A listener conflicting
 * with one of an earlier resource loses (and no longer claims the port);
 * the remaining listeners of the same resource that conflict all lose,
 * since the spec forbids picking a winner among indistinct listeners.
 *
 * OverlappingTLSConfig: HTTPS listeners on one port whose hostnames can
 * match the same name (e.g. `*.example.com` and `a.example.com`, or no
 * hostname at all) are flagged, as connection coalescing may then reuse one
 * listener's TLS session for the other's host.
 */
import type { Problem } from './gateway-conditions.ts';
import type { ListenerState } from './listener.ts';

function describe(s: ListenerState): string {
  const where = s.owner.kind === 'ListenerSet' ? ` of ListenerSet ${s.owner.namespace}/${s.owner.name}` : '';
  return `listener ${s.spec.name}${where}`;
}

function conflictBetween(a: ListenerState, b: ListenerState): Problem | undefined {
  if (a.spec.port !== b.spec.port) return undefined;
  if ((a.protocol === 'UDP') !== (b.protocol === 'UDP')) return undefined;
  if (a.protocol !== b.protocol || a.protocol === 'TCP' || a.protocol === 'UDP') {
    return {
      reason: 'ProtocolConflict',
      message: `All listeners for a given port must use a compatible protocol: port ${a.spec.port} is also used for ${b.protocol} by ${describe(b)}`,
    };
  }
  if ((a.spec.hostname || '') === (b.spec.hostname || '')) {
    const host = a.spec.hostname ? `hostname ${a.spec.hostname}` : 'no hostname';
    return {
      reason: 'HostnameConflict',
      message: `All listeners for a given port must use a unique hostname: ${describe(b)} also uses port ${a.spec.port} with ${host}`,
    };
  }
  return undefined;
}

/** Tracks the listeners that won their port so far; groups must be added in precedence order. */
export class ConflictTracker {
  readonly #winners: ListenerState[] = [];

  /** Sets `conflict` on the listeners of one resource that conflict with earlier ones or with each other. */
  addGroup(group: ListenerState[]): void {
    const candidates = group.filter((s) => s.protocol !== undefined);
    for (const s of candidates) {
      for (const w of this.#winners) {
        s.conflict ??= conflictBetween(s, w);
      }
    }
    // Listeners that already lost to an earlier resource no longer claim the port.
    const contenders = candidates.filter((s) => !s.conflict);
    for (const [i, a] of contenders.entries()) {
      for (const b of contenders.slice(i + 1)) {
        const p = conflictBetween(a, b);
        if (!p) continue;
        a.conflict ??= p;
        b.conflict ??= conflictBetween(b, a);
      }
    }
    this.#winners.push(...contenders.filter((s) => !s.conflict));
  }
}

function hostnamesOverlap(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a === b) return true;
  const covers = (wild: string, other: string): boolean => wild.startsWith('*.') && other.endsWith(wild.slice(1));
  return covers(a, b) || covers(b, a);
}

/** Flags HTTPS listeners (not otherwise rejected) whose hostnames overlap on the same port. */
export function markOverlappingTLS(states: ListenerState[]): void {
  const https = states.filter((s) => s.protocol === 'HTTPS' && !s.conflict && !s.invalid);
  for (const [i, a] of https.entries()) {
    for (const b of https.slice(i + 1)) {
      if (a.spec.port !== b.spec.port || !hostnamesOverlap(a.spec.hostname, b.spec.hostname)) continue;
      a.overlappingTLS ??= `Hostname overlaps with ${describe(b)} on port ${a.spec.port}`;
      b.overlappingTLS ??= `Hostname overlaps with ${describe(a)} on port ${b.spec.port}`;
    }
  }
}
