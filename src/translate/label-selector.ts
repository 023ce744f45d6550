/**
 * Kubernetes label selectors (metav1.LabelSelector), as used by
 * allowedRoutes.namespaces and allowedListeners.namespaces to pick
 * namespaces by their labels. Requirements are ANDed; an empty selector
 * matches everything, as in Kubernetes.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export type LabelMatcher = (labels: Record<string, string>) => boolean;

/** A matcher for the selector, or an error message when the selector is malformed. */
export function compileSelector(selector: LabelSelector): { matches: LabelMatcher } | { error: string } {
  const tests: LabelMatcher[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    tests.push((labels) => Object.hasOwn(labels, key) && labels[key] === value);
  }
  for (const [i, expr] of (selector.matchExpressions ?? []).entries()) {
    const values = expr.values ?? [];
    const where = `matchExpressions[${i}]`;
    switch (expr.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0) return { error: `${where}: operator ${expr.operator} needs at least one value` };
        const set = new Set(values);
        const want = expr.operator === 'In';
        tests.push((labels) => (Object.hasOwn(labels, expr.key) && set.has(labels[expr.key])) === want);
        break;
      }
      case 'Exists':
      case 'DoesNotExist': {
        if (values.length > 0) return { error: `${where}: operator ${expr.operator} takes no values` };
        const want = expr.operator === 'Exists';
        tests.push((labels) => Object.hasOwn(labels, expr.key) === want);
        break;
      }
      default:
        return { error: `${where}: unknown operator ${expr.operator} (In, NotIn, Exists, DoesNotExist)` };
    }
  }
  return { matches: (labels) => tests.every((t) => t(labels)) };
}
