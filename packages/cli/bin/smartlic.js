#!/usr/bin/env node
// Entry point kept in plain JavaScript so that the bin link exists before the build.
import '../dist/main.js';
