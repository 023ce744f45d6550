/** Builds a route's (or a backendRef's) filter chain from the IR, once per configuration. */
import type { BackendIR, FilterIR, PathMatchIR } from '../../ir/types.ts';
import type { CompiledBackend } from '../upstream/backend.ts';
import { CORSFilter } from './cors.ts';
import { DirectResponseFilter } from './direct-response.ts';
import type { HttpFilter } from './filter.ts';
import { RequestHeaderModifierFilter } from './request-header-modifier.ts';
import { RequestMirrorFilter } from './request-mirror.ts';
import { RequestRedirectFilter } from './request-redirect.ts';
import { ResponseHeaderModifierFilter } from './response-header-modifier.ts';
import { URLRewriteFilter } from './url-rewrite.ts';

export type { HttpFilter } from './filter.ts';

export interface FilterCompileEnv {
  /** The route entry's path match (ReplacePrefixMatch needs its prefix). */
  readonly routePath: PathMatchIR;
  /** `<route entry name>: filters` or the like, for error messages. */
  readonly where: string;
  /** Compiles a mirror's backend against the upstream registry. */
  mirrorBackend(b: BackendIR): CompiledBackend;
}

export interface FilterChain {
  readonly request: HttpFilter[];
  readonly response: HttpFilter[];
}

export function compileFilters(filters: readonly FilterIR[], env: FilterCompileEnv): FilterChain {
  const all: HttpFilter[] = [];
  filters.forEach((f, i) => {
    const where = `${env.where}[${i}] ${f.type}`;
    switch (f.type) {
      case 'RequestHeaderModifier':
        all.push(new RequestHeaderModifierFilter(f.modifier));
        break;
      case 'ResponseHeaderModifier':
        all.push(new ResponseHeaderModifierFilter(f.modifier));
        break;
      case 'RequestRedirect':
        all.push(new RequestRedirectFilter(f.redirect, env.routePath, where));
        break;
      case 'URLRewrite':
        all.push(new URLRewriteFilter(f.rewrite, env.routePath, where));
        break;
      case 'RequestMirror':
        all.push(new RequestMirrorFilter(env.mirrorBackend(f.mirror.backend), f.mirror.percent));
        break;
      case 'CORS':
        all.push(new CORSFilter(f.cors));
        break;
      case 'DirectResponse':
        all.push(new DirectResponseFilter(f.response));
        break;
    }
  });
  return {
    request: all.filter((f) => f.onRequest !== undefined),
    response: all.filter((f) => f.onResponse !== undefined),
  };
}
