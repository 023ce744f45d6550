#!/usr/bin/env node
// Runs the compiled CLI (npm run build). For development use `npm run sluice -- ...`.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
