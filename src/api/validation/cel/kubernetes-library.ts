/**
 * The parts of the Kubernetes CEL libraries the CRD rules call that cel-es
 * does not ship: `isIP` (k8s IP library) and `format.<name>().validate(s)`
 * (k8s format library). The strings extension comes from @bufbuild/cel/ext.
 */
import { isIP as netIsIP } from 'node:net';
import { CelScalar, celFunc, celMethod, isCelMap, type CelFunc } from '@bufbuild/cel';
import { dns1035Label, dns1123Label, dns1123Subdomain, labelValue, qualifiedName } from '../names.ts';

/** True for an IPv6 address whose first 80 bits are zero and next 16 are ones (::ffff:a.b.c.d). */
function isIPv4Mapped(addr: string): boolean {
  let text = addr.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right].map((g) =>
    parseInt(g, 16),
  );
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

/** Kubernetes `isIP`: an IPv4 or IPv6 address, without zone, not IPv4-mapped IPv6. */
export function isKubernetesIP(s: string): boolean {
  const family = netIsIP(s);
  if (family === 4) return true;
  return family === 6 && !s.includes('%') && !isIPv4Mapped(s);
}

const FORMATS: Record<string, (s: string) => string[]> = {
  dns1123Label,
  dns1123Subdomain,
  dns1035Label,
  qualifiedName,
  labelValue,
};

/** A format value is a one-entry map; CEL code only ever passes it to validate(). */
const FORMAT_KEY = 'kubernetes.io/format';

export const kubernetesLibrary: CelFunc[] = [
  celFunc('isIP', [CelScalar.STRING], CelScalar.BOOL, (s) => isKubernetesIP(s)),
  ...Object.keys(FORMATS).map((name) =>
    celFunc(`format.${name}`, [], CelScalar.DYN, () => new Map([[FORMAT_KEY, name]])),
  ),
  // k8s returns optional.none() for a valid string, which compares equal to null in the CRD rules.
  celMethod('validate', CelScalar.DYN, [CelScalar.STRING], CelScalar.DYN, function (s) {
    const name = isCelMap(this) ? this.get(FORMAT_KEY) : undefined;
    const check = typeof name === 'string' ? FORMATS[name] : undefined;
    if (!check) throw new Error('validate() applies to a format.<name>() value');
    const errs = check(s);
    return errs.length ? errs : null;
  }),
];
