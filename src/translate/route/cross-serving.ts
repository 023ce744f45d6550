/**
 * HTTPRoute / GRPCRoute cross-serving (GRPCRouteSpec.hostnames): when routes
 * of the two kinds attach to the same listener with intersecting hostnames,
 * exactly one may be accepted: the oldest, then the first by
 * `{namespace}/{name}`. The loser is not attached to that listener; when that
 * leaves a parentRef with no listener, its Accepted condition is False with
 * reason HostnameConflict (the spec names no reason; this is the Listener
 * conflict reason of the same name).
 *
 * Envoy Gateway merges both kinds into one route table instead; Sluice
 * follows the spec because a gRPC entry answers unmatched calls with gRPC
 * UNIMPLEMENTED, which an HTTP client sharing the host would not expect.
 */
import type { ListenerContext } from '../context.ts';
import { hostnamesOverlap } from '../hostname.ts';
import { compareRouteAge } from '../precedence.ts';
import type { ListenerAttachment, ResolvedParent } from './parents.ts';
import { allRulesInvalid, type TranslatedRoute } from './types.ts';

export interface RouteParents {
  translated: TranslatedRoute;
  parents: ResolvedParent[];
}

interface Candidate {
  translated: TranslatedRoute;
  parent: ResolvedParent;
  attachment: ListenerAttachment;
}

export function resolveCrossServing(routes: RouteParents[]): void {
  const byListener = new Map<ListenerContext, Candidate[]>();
  for (const { translated, parents } of routes) {
    if (translated.kind !== 'HTTPRoute' && translated.kind !== 'GRPCRoute') continue;
    // A route no parent accepts (every rule invalid) attaches nowhere and blocks nothing.
    if (allRulesInvalid(translated)) continue;
    for (const parent of parents) {
      if (parent.failure) continue;
      for (const attachment of parent.attachments) {
        const list = byListener.get(attachment.listener);
        if (list) list.push({ translated, parent, attachment });
        else byListener.set(attachment.listener, [{ translated, parent, attachment }]);
      }
    }
  }
  const touched = new Map<ResolvedParent, Candidate>();
  for (const candidates of byListener.values()) {
    candidates.sort((a, b) => compareRouteAge(a.translated.identity, b.translated.identity));
    const kept: Candidate[] = [];
    for (const c of candidates) {
      const winner = kept.find(
        (k) =>
          k.translated.kind !== c.translated.kind &&
          k.attachment.hostnames.some((h) => c.attachment.hostnames.some((o) => hostnamesOverlap(h, o))),
      );
      if (!winner) {
        kept.push(c);
        continue;
      }
      c.parent.attachments = c.parent.attachments.filter((a) => a !== c.attachment);
      touched.set(c.parent, winner);
    }
  }
  for (const [parent, winner] of touched) {
    if (parent.attachments.length > 0 || parent.failure) continue;
    const w = winner.translated;
    parent.failure = {
      reason: 'HostnameConflict',
      message: `${w.kind} ${w.identity.namespace}/${w.identity.name} already serves an intersecting hostname on the listener; HTTPRoutes and GRPCRoutes cannot share one`,
    };
  }
}
