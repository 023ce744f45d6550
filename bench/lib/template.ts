/** `{{NAME}}` placeholders in the peers' config files, filled at run time. */
import { readFileSync, writeFileSync } from 'node:fs';

export function render(templatePath: string, outPath: string, values: Record<string, string | number>): void {
  const text = readFileSync(templatePath, 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`${templatePath}: no value for {{${key}}}`);
    return String(v);
  });
  writeFileSync(outPath, text);
}
