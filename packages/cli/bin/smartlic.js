#!/usr/bin/env node
// Entry point kept in plain JavaScript so that the bin link exists before the build; it loads
// the bundled CLI (scripts/bundle.mjs, ADR 0022).
import '../dist/bundle/main.js';
